-- Posting a seed question in its thread is now a step recorded on its own: a bot_messages row of kind
-- 'question' whose part is the question's position. Until now the thread and its question were made in one
-- call, so every question that has a thread was posted: mark it so (its message id was never kept: 0).
INSERT INTO bot_messages (dialogue_id, kind, part, channel_id, message_id, posted_at)
SELECT questions.dialogue_id, 'question', questions.position, questions.thread_id, 0, threads.created_at
FROM questions
JOIN threads ON threads.thread_id = questions.thread_id
WHERE questions.thread_id IS NOT NULL;
