"""How PostgreSQL makes its threads and totals at commit, from migration 0016 on (0014's first
versions are fulltext_pg.py's).

Once a transaction. The deferred triggers fire once for every row the transaction wrote: for
a page of 100 questions and their 200 answers, 300 times. The first firing made every noted
thread and the other 299 ran their statements to find nothing. Now a row trigger that notes
work also says so in a setting local to the transaction, and a firing that finds it unset
returns at once. (A savepoint rolled back takes its notes and the setting back together.)

A thread too long for one tsvector (1 MB at most). Such a thread (a question with dozens of
long answers full of distinct words: code, hashes, numbers) failed its transaction at commit,
and the whole page of questions it came with was lost, again on every retry. Now, when that
happens, the transaction's noted threads are made again, each from the first BOUND characters
of its body and answers (title and tags always), so the page is stored. The words past the
bound are not searchable on PostgreSQL; SQLite has no such limit.
"""

from .fulltext_pg import APPLY_TOTALS, MARKS, THREAD_FUNCTIONS, TOTALS_FUNCTIONS, make_threads

# At worst about 5 bytes of tsvector per character of text (distinct two-character words
# of four-byte characters): 100,000 characters stay well under 1 MB. Typical text reaches
# 16,383, where tsvector positions stop, at about as many characters.
BOUND = 100_000
THREADS_NOTED, TOTALS_NOTED = "stackq.threads_noted", "stackq.totals_noted"


def _note(setting):
    return f"SELECT set_config('{setting}', 'y', true);"


def _only_once(setting):
    """The start of a deferred trigger's body: return unless a row noted work since the last
    firing; then take the note."""
    return (f"IF current_setting('{setting}', true) IS DISTINCT FROM 'y' THEN RETURN NULL; "
            f"END IF;\n  PERFORM set_config('{setting}', '', true);")


# The answers whose text starts before BOUND (the body first), each cut at it. (`$5`, the
# body: a parameter's name would be taken for the answers' column of that name.)
FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION stackq_bounded_thread_words(question integer, site integer,
                                                       title text, tags text, body text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT stackq_title_words(title, tags) || stackq_text_words(left($5, {BOUND}), 'C')
      || coalesce((SELECT stackq_words_agg(stackq_text_words(
                              left(a.body_text, CAST({BOUND} - a.before AS integer)), 'D')
                            ORDER BY a.id)
                     FROM (SELECT a.id, a.body_text, coalesce(length($5), 0)
                                  + coalesce(sum(length(a.body_text)) OVER (ORDER BY a.id ROWS
                                             BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                                  AS before
                             FROM answers AS a WHERE a.question_id = question) AS a
                    WHERE a.before < {BOUND}), '')
      || {MARKS}
$$;
CREATE OR REPLACE FUNCTION stackq_note_thread(question integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO search_threads_pending (question) VALUES (question);
  {_note(THREADS_NOTED)}
$$;
CREATE OR REPLACE FUNCTION stackq_apply_threads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_only_once(THREADS_NOTED)}
  BEGIN
    {make_threads("stackq_thread_words")}
  EXCEPTION WHEN program_limit_exceeded THEN
    -- A thread too long for one tsvector: all of them again, the long ones cut.
    {make_threads("stackq_bounded_thread_words")}
  END;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION stackq_note_totals(site integer, tags text, step integer)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO search_totals_pending (kind, key, questions)
  SELECT 's', site::text, step
  UNION ALL
  SELECT 't', t.value, step FROM unnest(string_to_array(tags, ' ')) AS t(value)
   WHERE t.value <> '';
  {_note(TOTALS_NOTED)}
$$;
CREATE OR REPLACE FUNCTION stackq_apply_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_only_once(TOTALS_NOTED)}
  {APPLY_TOTALS}
  RETURN NULL;
END $$;
"""


def upgrade(execute):
    execute(FUNCTIONS)


def downgrade(execute):
    """0014's functions back (each is replaced whole), and the bounded one gone."""
    for functions in (THREAD_FUNCTIONS, TOTALS_FUNCTIONS):
        execute(functions.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
                .replace("CREATE AGGREGATE", "CREATE OR REPLACE AGGREGATE"))
    execute("DROP FUNCTION IF EXISTS stackq_bounded_thread_words(integer, integer, text, text, "
            "text)")
