-- Re-posted reports (portals.md H14): the same report under several URLs (部门年报 and 政府年报
-- columns, a department subsite) gets one report_id per URL.  Reports with the same agency,
-- year, format and identical printed cells are copies; duplicate_of names the earliest-fetched
-- copy, so totals can keep one:  ... WHERE report_id NOT IN (SELECT report_id FROM report_duplicates)
CREATE OR REPLACE VIEW report_duplicates AS
WITH content AS (
    SELECT report_id, md5(string_agg(code || '=' || coalesce(raw, ''), '|' ORDER BY code)) AS cells_md5
    FROM stored_facts GROUP BY report_id
),
keyed AS (
    SELECT r.report_id, r.agency, r.year, r.format, r.source_url, r.fetched_at, c.cells_md5,
           first_value(r.report_id) OVER (
               PARTITION BY r.agency, r.year, r.format, c.cells_md5
               ORDER BY r.fetched_at, r.report_id) AS duplicate_of,
           count(*) OVER (PARTITION BY r.agency, r.year, r.format, c.cells_md5) AS n_copies
    FROM reports r JOIN content c USING (report_id)
    WHERE r.n_facts > 0
)
SELECT report_id, duplicate_of, n_copies, agency, year, format, source_url
FROM keyed WHERE n_copies > 1 AND report_id <> duplicate_of;
