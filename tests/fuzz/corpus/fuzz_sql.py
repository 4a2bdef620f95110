#!/usr/bin/python3.11
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpus of tests/fuzz/fuzz_sql.c into tests/fuzz/corpus/fuzz_sql/.

Each seed is an output-size byte (0..127: 1..128 bytes; 128..255: a multiple of 32 up to 4096,
see fuzz_sql.c) and SQL as applications and pgbench send it: string, number, hex, bit and
E'' literals with escapes, dollar quotes (tagged, nested tags, unclosed), line and nested
block comments, quoted identifiers with doubled quotes and multibyte UTF-8, parameters ($1),
casts, every statement kind sql_summarize names (SELECT, INSERT, UPDATE, DELETE, MERGE, COPY,
TRUNCATE, CREATE/DROP/ALTER TABLE|INDEX|VIEW, IF [NOT] EXISTS), and statements cut short in a
literal, a comment or a UTF-8 character. Most are written twice: with a roomy output and with
one that cuts it. Run it again after changing it: /usr/bin/python3.11 tests/fuzz/corpus/fuzz_sql.py
"""
import os

SQL = {
    "select_literals": "SELECT id, name FROM users WHERE email = 'alice@example.com' AND age > 30"
                       " AND score < 4.5e-3 AND flags = 0x1F LIMIT 10 OFFSET 20",
    "select_params_cast": "SELECT * FROM \"public\".\"Orders\" o WHERE o.id = $1::bigint AND "
                          "o.created > now() - interval '1 day' AND t1.c2 = $12",
    "insert_values": "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES "
                     "(7, 1, 43210, -2345, CURRENT_TIMESTAMP)",
    "insert_on_conflict": "INSERT INTO kv (k, v) VALUES ('a''b', E'line\\nnext\\'q') ON CONFLICT"
                          " (k) DO UPDATE SET v = EXCLUDED.v RETURNING *",
    "update_pgbench": "UPDATE pgbench_accounts SET abalance = abalance + -4361 WHERE aid = 83561;",
    "delete_returning": "DELETE FROM sessions WHERE expires < '2025-04-28 10:00:00+00' RETURNING id",
    "merge": "MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE "
             "SET qty = s.qty + d.qty WHEN NOT MATCHED THEN INSERT VALUES (d.item, 10)",
    "copy": "COPY measurements (ts, value) FROM STDIN WITH (FORMAT csv, DELIMITER ';')",
    "truncate": "TRUNCATE TABLE ONLY audit_log RESTART IDENTITY CASCADE",
    "create_table": "CREATE TABLE IF NOT EXISTS \"Ünïcødé \"\"quoted\"\" table\" (id serial "
                    "PRIMARY KEY, note text DEFAULT 'n/a', price numeric(10,2) CHECK (price > .5))",
    "create_index": "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_users_email ON users "
                    "(lower(email))",
    "drop_view": "DROP VIEW IF EXISTS reporting.monthly_totals",
    "alter_table": "ALTER TABLE ONLY accounts ADD COLUMN IF NOT EXISTS balance bigint DEFAULT 0",
    "dollar_quotes": "CREATE FUNCTION f() RETURNS text AS $body$ SELECT 'it''s' || $$inner$$ "
                     "$body$ LANGUAGE sql; SELECT $tag$a$b$$ c$tag$, $1",
    "dollar_unclosed": "SELECT $fn$ secret password 'x' -- not a comment",
    "comments": "/* leading /* nested */ comment 'x' */ -- line 'y'\nSELECT 1 /* tail */ -- end",
    "comment_unclosed": "SELECT a FROM t /* an unclosed comment with 'quotes' and $$dollars",
    "e_string_escapes": "SELECT E'\\x41\\u00e9\\\\', e'\\'', U&'d\\0061t\\+000061', B'1010', "
                        "X'DEADBEEF', N'nat'",
    "quoted_idents": "SELECT \"a\"\"b\", \"--not comment\", \"/*x*/\", \"'q'\" FROM \"t\"\"1\"",
    "utf8": "SELECT 'héllo wörld 日本語 🙂' AS gruß, \"列\" FROM données WHERE nom = 'Zoë'",
    "unclosed_string": "SELECT * FROM users WHERE password = 'hunter2",
    "unclosed_ident": "SELECT \"never closed FROM t WHERE x = 'y'",
    "parens_with": "((WITH recent AS (SELECT * FROM events WHERE ts > 1700000000) SELECT count(*) "
                   "FROM recent))",
    "multi_statement": "BEGIN; SELECT 1; UPDATE t SET a = 'b'; COMMIT; -- done",
    "numbers_in_identifiers": "SELECT t1.c2, x3y, _9, a$1 FROM t2 WHERE col_1e5 = 1e5 AND "
                              "1.5e+10 > -.25E-3",
    "leading_whitespace": " \t\r\n  -- comment\n  /* c */ ( ( select lower(name) from Users ) )",
}

CUT = {
    "cut_utf8": "SELECT 'x' AS \"日本語\"".encode(),
    "cut_mid_multibyte": "INSERT INTO \"tablé\" VALUES (1)".encode()[:17],
    "invalid_utf8": b"SELECT \"\xff\xfe\xc3\" FROM t WHERE a = '\xe2\x82'",
    "nul_inside": b"SELECT 'a\x00b' FROM t\x00 WHERE x = 1",
}

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_sql")
os.makedirs(here, exist_ok=True)


def write(name, size_byte, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(bytes([size_byte]) + data)


for name, text in SQL.items():
    data = text.encode()
    write(name, 255, data)               # 4096 bytes: never cut
    write(name + "_cut", 23, data)       # 24 bytes: cut inside the statement
for name, data in CUT.items():
    write(name, 255, data)
    # 1..128 bytes: every cut inside a multibyte character is tried by the fuzzer from here
    write(name + "_cut", 19, data)
