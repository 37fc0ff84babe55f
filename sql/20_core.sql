-- One row per report.  passes_checks: no failed check (skipped checks do not count).
CREATE OR REPLACE VIEW reports AS
SELECT report_id, title, agency, level, region_code,
       left(region_code, 2) AS province_code,
       year, format, published, index_no,
       source_url, source, portal_id, sha256, fetched_at, extracted_at, parser_version,
       n_facts, n_values, n_checks, n_checks_failed, n_checks_skipped,
       n_checks_failed = 0 AS passes_checks,
       errors, flags
FROM stored_reports;

-- Long format: one row per cell, with the report columns needed for slicing, the catalogue
-- labels of the report's format, and provenance.  value is NULL when the cell held no number.
-- Filters on code, table, item and year are pushed down to the Parquet files (fast).
CREATE OR REPLACE VIEW facts AS
SELECT f.report_id, f.year, r.agency, r.level, r.region_code, r.province_code, f.format,
       f."table", f.item, f."column", f.code,
       l.item_zh, l.column_zh, l.item_en, l.column_en, l.parent,
       f.value, f.unit, f.raw, r.passes_checks,
       r.title, r.source_url, r.source, r.sha256, r.fetched_at, r.extracted_at, r.parser_version
FROM stored_facts AS f
JOIN reports AS r USING (report_id)
LEFT JOIN cell_labels AS l
       ON l.format = f.format AND l."table" = f."table" AND l.item = f.item AND l."column" = f."column";

-- Every check of every report.  ok: TRUE passed, FALSE failed, NULL skipped (an operand was
-- blank).  name = family.scope, e.g. requests_balance.natural.
CREATE OR REPLACE VIEW checks AS
SELECT c.report_id, r.year, r.agency, r.title, r.format,
       c.name,
       split_part(c.name, '.', 1) AS family,
       CASE WHEN strpos(c.name, '.') > 0 THEN substr(c.name, strpos(c.name, '.') + 1) END AS scope,
       c.ok,
       CASE WHEN c.ok THEN 'passed' WHEN NOT c.ok THEN 'failed' ELSE 'skipped' END AS status,
       c.detail, r.source_url, r.source
FROM stored_checks AS c
JOIN reports AS r USING (report_id);

CREATE OR REPLACE VIEW check_failures AS
SELECT report_id, year, agency, title, format, name, family, scope, detail, source_url, source
FROM checks
WHERE ok = FALSE;
