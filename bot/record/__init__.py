"""The dialogue's record taken out of Discord: exports (Markdown, HTML, JSON), pseudonyms and the activity chart."""
