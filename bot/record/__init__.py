"""The dialogue's record: exports, pseudonyms, the activity chart, retention."""
