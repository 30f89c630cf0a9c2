SELECT accountnumber, balance FROM account
SELECT * FROM account
SELECT id FROM account WHERE balance > 50
SELECT count(*) FROM account
SELECT org_label, count(*) FROM account GROUP BY org_label
SELECT sum(balance), min(balance), max(balance) FROM account
SELECT count(*) FROM invoice
SELECT a.id, i.id FROM account a JOIN invoice i ON i.account_id = a.id
SELECT a.id, i.id FROM account a LEFT JOIN invoice i ON i.account_id = a.id
SELECT a.id, i.id FROM invoice i LEFT JOIN account a ON i.account_id = a.id
SELECT account.id, invoice.amount FROM account, invoice WHERE account.id = invoice.account_id
SELECT a.id, p.id FROM account a CROSS JOIN product p
SELECT id FROM account WHERE id IN (SELECT account_id FROM invoice)
SELECT id FROM account WHERE id NOT IN (SELECT account_id FROM invoice WHERE account_id IS NOT NULL)
SELECT id FROM account a WHERE EXISTS (SELECT 1 FROM invoice i WHERE i.account_id = a.id)
SELECT id FROM account a WHERE NOT EXISTS (SELECT 1 FROM invoice i WHERE i.account_id = a.id)
SELECT id, (SELECT count(*) FROM invoice i WHERE i.account_id = a.id) FROM account a
SELECT (SELECT max(balance) FROM account) AS m
SELECT * FROM (SELECT id, balance FROM account WHERE balance > 10) AS sub
WITH big AS (SELECT * FROM account WHERE balance > 30) SELECT id FROM big
WITH a AS (SELECT id FROM account), b AS (SELECT account_id FROM invoice) SELECT a.id FROM a JOIN b ON a.id = b.account_id
WITH t AS (SELECT id FROM account) SELECT count(*) FROM t, t AS t2
WITH t AS (SELECT id FROM account), u AS (SELECT id FROM t WHERE id > 3) SELECT id FROM u
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT x FROM n
WITH RECURSIVE n(x) AS (SELECT min(id) FROM account UNION ALL SELECT x + 1 FROM n WHERE x < 10) SELECT x FROM n
SELECT id FROM account UNION SELECT id FROM invoice
SELECT id FROM account UNION ALL SELECT account_id FROM invoice
SELECT id FROM account INTERSECT SELECT account_id FROM invoice
SELECT id FROM account EXCEPT SELECT account_id FROM invoice
SELECT id, row_number() OVER (ORDER BY id) FROM account
SELECT id, rank() OVER (PARTITION BY org_label ORDER BY balance) FROM account
SELECT id, sum(balance) OVER (ORDER BY id) FROM account
SELECT id, lag(balance) OVER (ORDER BY id) FROM account
SELECT id, first_value(id) OVER (PARTITION BY org_label ORDER BY id) FROM account
SELECT org_label, count(*) FROM account GROUP BY org_label HAVING count(*) > 1
SELECT DISTINCT org_label FROM account
SELECT count(DISTINCT org_label) FROM account
SELECT id FROM account ORDER BY id LIMIT 3
SELECT id FROM account ORDER BY id LIMIT 2 OFFSET 1
SELECT * FROM custom_object
SELECT c.name, a.id FROM custom_object c JOIN account a ON a.id = c.id
SELECT p.name, count(*) FROM product p GROUP BY p.name
SELECT coalesce(org_label, 'none') FROM account
SELECT upper(accountnumber), length(accountnumber) FROM account
SELECT a.id FROM account AS a JOIN account AS b ON a.balance = b.balance AND a.id <> b.id
SELECT id FROM account WHERE balance = (SELECT max(balance) FROM account)
SELECT * FROM (SELECT * FROM (SELECT id FROM invoice) AS x) AS y
SELECT i.id, p.id FROM invoice i JOIN product p ON p.price = i.amount
SELECT count(*) FROM account a LEFT JOIN invoice i ON i.account_id = a.id WHERE i.id IS NULL
SELECT a.org_label, sum(i.amount) FROM account a JOIN invoice i ON i.account_id = a.id GROUP BY a.org_label
SELECT x.id FROM (SELECT id FROM account UNION SELECT id FROM product) AS x
SELECT id FROM account WHERE org_label IS NULL
SELECT CASE WHEN balance > 50 THEN 'high' ELSE 'low' END AS band, count(*) FROM account GROUP BY band
SELECT 1
SELECT max(id) FROM (SELECT id FROM account ORDER BY id DESC LIMIT 2) AS t
SELECT a.id, b.amount FROM account a JOIN invoice b USING (id)
SELECT * FROM account NATURAL JOIN invoice
WITH x AS (SELECT org_label FROM account) SELECT count(*) FROM x WHERE org_label IN (SELECT org_label FROM product)
SELECT "id" FROM "account"
SELECT ACCOUNT.ID FROM ACCOUNT
SELECT a.id FROM account a RIGHT JOIN invoice i ON i.account_id = a.id
SELECT a.id, i.id FROM account a FULL OUTER JOIN invoice i ON i.account_id = a.id
SELECT id FROM product WHERE price > (SELECT min(amount) FROM invoice)
SELECT (SELECT count(*) FROM invoice WHERE invoice.account_id = account.id) AS n FROM account ORDER BY n
SELECT id FROM account WHERE balance BETWEEN 20 AND 70 AND accountnumber LIKE 'A%'
