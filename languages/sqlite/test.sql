CREATE TABLE parts (pos INTEGER, part TEXT);
INSERT INTO parts VALUES (2, 'K'), (1, 'O');
SELECT group_concat(part, '') FROM (SELECT part FROM parts ORDER BY pos);
