# Written by hand on 2026-12-07.
"""The account search's tokens become the rest of each field from every word on (cut at 64
characters) rather than the words one by one (cloudmsp.cloud.search): a search of several words
is then one range of the index, never an intersection of common words. PostgreSQL's
`cloudmsp_search_tokens` is replaced (SQLite's is the Python function of cloudmsp.cloud.search,
already the new one), and every tenant's tokens are written again."""

from django.db import migrations

from cloudmsp.core.triggers import DatabaseTriggers

TOKENS = "cloud_accountsearchtoken"
WORD = r"[^\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+"

POSTGRES_FUNCTION = rf"""
    CREATE OR REPLACE FUNCTION cloudmsp_search_tokens(account_id text, search_text text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT left(substr(line, regexp_instr(line, '{WORD}', 1, n)), 64)
          FROM regexp_split_to_table(search_text, E'\n') AS line,
               generate_series(1, regexp_count(line, '{WORD}')) AS n
        UNION
        SELECT '~' || reverse(account_id) WHERE account_id <> ''
    $fn$
"""

# The words one by one, as migration 0013 wrote them.
POSTGRES_FUNCTION_0013 = r"""
    CREATE OR REPLACE FUNCTION cloudmsp_search_tokens(account_id text, search_text text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT left(word, 64) FROM regexp_split_to_table(search_text, '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+') AS word
         WHERE word <> ''
        UNION
        SELECT '~' || reverse(account_id) WHERE account_id <> ''
    $fn$
"""

POSTGRES_REWRITE = [
    f"DELETE FROM {TOKENS}",
    f"""INSERT INTO {TOKENS} (tenant_id, account_id, token)
        SELECT a.tenant_id, a.id, t FROM cloud_cloudaccount AS a, cloudmsp_search_tokens(a.account_id, a.search_text) AS t""",
]

SQLITE_REWRITE = [
    f"DELETE FROM {TOKENS}",
    f"""INSERT INTO {TOKENS} (tenant_id, account_id, token)
        SELECT a.tenant_id, a.id, j.value FROM cloud_cloudaccount AS a,
               json_each(cloudmsp_search_tokens(a.account_id, a.search_text)) AS j""",
]


class Migration(migrations.Migration):

    dependencies = [
        ('cloud', '0013_account_search_tokens'),
    ]

    operations = [
        DatabaseTriggers(
            'search_tokens_from_each_word_on',
            forwards={'postgresql': [POSTGRES_FUNCTION, *POSTGRES_REWRITE], 'sqlite': SQLITE_REWRITE},
            backwards={'postgresql': [POSTGRES_FUNCTION_0013, *POSTGRES_REWRITE], 'sqlite': SQLITE_REWRITE},
        ),
    ]
