-- Across reports (issue 14): copies, agencies followed across years, panel checks, coverage and
-- deadlines, the report text's numbers against its tables.  The public `reports` view is the
-- last one here: report_base plus the agency's identity, is_copy and passes_panel_checks.
--
-- Why some of these are TABLEs: every researcher view needs each report's copy and panel
-- status, and computing them means windows over all reports (1 s per 10^5 reports, on every
-- query).  They depend only on the warehouse version these views are rendered for, so they
-- are computed once, when the views are applied (after each load) or a private snapshot is
-- rendered (connect(as_of=…)), and stored beside the views.

-- Re-posted reports (portals.md H14): the same report under several URLs (部门年报 and 政府年报
-- columns, a department subsite) gets one report_id per URL.  Reports of the same agency
-- (agency_key), year and format with identical printed cells (cells_digest, a hash of every
-- cell's code, raw text, unit and value taken at load) are copies; `original` names the
-- earliest-fetched one, which the researcher views keep.  Rows loaded before cells_digest
-- existed are not compared until they are reloaded (a backfill does it).
CREATE OR REPLACE TABLE report_copy_links AS
SELECT report_id, agency_key, agency_kind, original, n_copies,
       coalesce(original <> report_id, FALSE) AS is_copy
FROM (
    SELECT b.report_id, n.agency_key, n.agency_kind,
           CASE WHEN b.cells_digest IS NOT NULL THEN first_value(b.report_id) OVER (
               PARTITION BY n.agency_key, b.year, b.format, b.cells_digest
               ORDER BY b.fetched_at, b.report_id) END AS original,
           CASE WHEN b.cells_digest IS NOT NULL THEN count(*) OVER (
               PARTITION BY n.agency_key, b.year, b.format, b.cells_digest) END AS n_copies
    FROM report_base AS b
    JOIN report_names AS n USING (report_id)
);

-- report_base with the agency's identity and the copy judgement (what the panel is built from).
CREATE OR REPLACE VIEW report_copies AS
SELECT b.report_id, b.title, b.agency, l.agency_key, l.agency_kind,
       b.* EXCLUDE (report_id, title, agency), l.original, l.n_copies, l.is_copy
FROM report_base AS b
JOIN report_copy_links AS l USING (report_id);

-- Each copy with the report it copies (duplicate_of) and the number of copies of it.
CREATE OR REPLACE VIEW report_duplicates AS
SELECT report_id, original AS duplicate_of, n_copies, agency, year, format, source_url
FROM report_copies
WHERE is_copy;

-- One report per agency and year: copies left out; of several distinct reports of one year
-- (a corrected re-issue) the latest published, then latest fetched.  n_reports counts them.
CREATE OR REPLACE TABLE agency_years AS
SELECT agency_key, agency, agency_kind, year, report_id, format, published, fetched_at,
       count(*) OVER (PARTITION BY agency_key, year) AS n_reports
FROM report_copies
WHERE agency_key IS NOT NULL AND year IS NOT NULL AND NOT is_copy
QUALIFY row_number() OVER (
    PARTITION BY agency_key, year
    ORDER BY published DESC NULLS LAST, fetched_at DESC NULLS LAST, report_id) = 1;

-- One row per agency: every name it reported under, where it is (from its latest report), the
-- years it published (copies left out).
CREATE OR REPLACE TABLE agencies AS
SELECT agency_key,
       arg_max(agency, year) AS agency,
       list(DISTINCT agency ORDER BY agency) AS names,
       arg_max(region_code, year) AS region_code,
       arg_max(province_code, year) AS province_code,
       arg_max(province, year) AS province,
       arg_max(level, year) AS level,
       arg_max(agency_kind, year) AS agency_kind,
       min(year) AS first_year, max(year) AS last_year,
       list(DISTINCT year ORDER BY year) AS years,
       count(*) AS n_reports
FROM report_copies
WHERE agency_key IS NOT NULL AND year IS NOT NULL AND NOT is_copy
GROUP BY agency_key;

-- Checks between an agency's consecutive reports (agency_years), per agency × year after its
-- first, as a list of (name, expected, found, ok):
--   carried_over.<column>: 上年结转 of year Y = 结转下年度继续办理 of Y−1, per applicant column;
--   in_force.<item>: 现行有效件数 of Y = that of Y−1 + 本年制发 − 本年废止 of Y (规章 and
--   行政规范性文件; 2021 format only: the 2019 format has no 现行有效 column).
-- ok NULL (skipped): no report for Y−1, or an operand is blank or not in that format.
-- The previous year comes from a window (one pass), not a self-join.
CREATE OR REPLACE TABLE panel_pairs AS
WITH y AS (
    SELECT a.agency_key, a.agency, a.year, a.report_id,
           min(a.year) OVER w AS first_year,
           lag(a.year) OVER w AS p_year,
           lag(a.report_id) OVER w AS p_report_id,
           lag({'natural': v.requests__carried_forward__natural,
                'commercial': v.requests__carried_forward__commercial,
                'research': v.requests__carried_forward__research,
                'ngo': v.requests__carried_forward__ngo,
                'legal_service': v.requests__carried_forward__legal_service,
                'other_org': v.requests__carried_forward__other_org,
                'total': v.requests__carried_forward__total,
                'reg_in_force': v.active__regulation__in_force,
                'norm_in_force': v.active__normative_doc__in_force}) OVER w AS p,
           v.requests__carried_over__natural AS co_natural,
           v.requests__carried_over__commercial AS co_commercial,
           v.requests__carried_over__research AS co_research,
           v.requests__carried_over__ngo AS co_ngo,
           v.requests__carried_over__legal_service AS co_legal_service,
           v.requests__carried_over__other_org AS co_other_org,
           v.requests__carried_over__total AS co_total,
           v.active__regulation__in_force AS reg_in_force,
           v.active__regulation__issued AS reg_issued,
           v.active__regulation__repealed AS reg_repealed,
           v.active__normative_doc__in_force AS norm_in_force,
           v.active__normative_doc__issued AS norm_issued,
           v.active__normative_doc__repealed AS norm_repealed
    FROM agency_years AS a
    LEFT JOIN stored_report_values AS v USING (report_id)
    WINDOW w AS (PARTITION BY a.agency_key ORDER BY a.year)
),
c AS (
    SELECT agency_key, agency, year, report_id,
           CASE WHEN p_year = year - 1 THEN p_report_id END AS previous_report_id,
           CASE WHEN p_year = year - 1 THEN p END AS p,
           y.* EXCLUDE (agency_key, agency, year, report_id, first_year, p_year, p_report_id, p)
    FROM y
    WHERE year > first_year
),
l AS (
    SELECT agency_key, agency, year, report_id, previous_report_id, [
        {'name': 'carried_over.natural', 'expected': p.natural, 'found': co_natural},
        {'name': 'carried_over.commercial', 'expected': p.commercial, 'found': co_commercial},
        {'name': 'carried_over.research', 'expected': p.research, 'found': co_research},
        {'name': 'carried_over.ngo', 'expected': p.ngo, 'found': co_ngo},
        {'name': 'carried_over.legal_service', 'expected': p.legal_service,
         'found': co_legal_service},
        {'name': 'carried_over.other_org', 'expected': p.other_org, 'found': co_other_org},
        {'name': 'carried_over.total', 'expected': p.total, 'found': co_total},
        {'name': 'in_force.regulation',
         'expected': p.reg_in_force + reg_issued - reg_repealed, 'found': reg_in_force},
        {'name': 'in_force.normative_doc',
         'expected': p.norm_in_force + norm_issued - norm_repealed, 'found': norm_in_force}
    ] AS pairs
    FROM c
)
SELECT agency_key, agency, year, report_id, previous_report_id,
       list_transform(pairs, lambda x: {'name': x.name, 'expected': x.expected, 'found': x.found,
                                   'ok': CASE WHEN previous_report_id IS NOT NULL
                                              THEN x.expected = x.found END}) AS checks
FROM l;

-- One row per panel check.
CREATE OR REPLACE VIEW panel_checks AS
WITH u AS (SELECT * EXCLUDE (checks), unnest(checks) AS x FROM panel_pairs)
SELECT agency_key, agency, year, x.name AS "check", x.expected, x.found, x.ok,
       CASE WHEN previous_report_id IS NULL THEN 'no report for ' || (year - 1)
            WHEN x.ok IS NULL THEN 'a value is blank or not in this format'
            WHEN NOT x.ok THEN
                'expected ' || x.expected::BIGINT || ' from ' || (year - 1)
                || ', the report says ' || x.found::BIGINT
       END AS detail,
       report_id, previous_report_id
FROM u;

CREATE OR REPLACE VIEW panel_failures AS
SELECT * FROM panel_checks WHERE ok = FALSE;

-- passes_panel_checks per report of agency_years: no failed panel check on either side of it
-- (a break between Y−1 and Y leaves both reports in doubt).  Reports outside agency_years
-- (copies, a second report of a year, no agency) have none: NULL.  One pass over panel_pairs
-- and agency_years: a report fails with its own row (against Y−1) or with the next year's.
CREATE OR REPLACE TABLE report_panel_status AS
WITH f AS (
    SELECT report_id, previous_report_id,
           list_bool_or(list_transform(checks, lambda x: NOT x.ok)) AS failed
    FROM panel_pairs
),
failing AS (
    SELECT report_id FROM f WHERE failed
    UNION
    SELECT previous_report_id FROM f WHERE failed
)
SELECT a.report_id, g.report_id IS NULL AS passes_panel_checks
FROM agency_years AS a
LEFT JOIN failing AS g USING (report_id);

-- The agencies of the registry rows crawled (portal_runs, latest run per row): a 年报 column
-- belongs to an agency that must report, whether or not a report of it was ever found.
-- Platform and aggregator rows are not agencies (a platform's agency columns are rows of their
-- own), nor are rows whose agency is a placeholder or a collection ("…部门", "下属局（名称待核实）",
-- "国务院部门（示例）"): a name is taken only when it ends as an organ's name does.  The key is
-- made as the reports' is (aliases applied, the registry's region).
CREATE OR REPLACE VIEW registry_agencies AS
WITH latest AS (
    SELECT portal_id, agency, level, region_code, agency_norm(agency) AS name_norm
    FROM portal_runs
    WHERE agency IS NOT NULL AND coalesce(kind, 'column') = 'column'
      AND NOT contains(agency, '待核实')
      AND regexp_matches(agency_norm(agency),
              '(局|厅|委|办|室|政府|中心|院|部|署|办事处|公署|所|站|队|处|会|行|社|台|馆|街道|乡|镇|区|县|旗|市|州|盟)$')
    QUALIFY row_number() OVER (PARTITION BY portal_id ORDER BY started_at DESC, run_id DESC) = 1
)
SELECT l.portal_id, l.agency, l.level, coalesce(a.region_code, l.region_code) AS region_code,
       agency_key_of(coalesce(a.agency, l.name_norm), coalesce(a.region_code, l.region_code),
                     l.portal_id) AS agency_key,
       agency_kind(coalesce(a.agency, l.name_norm)) AS agency_kind
FROM latest AS l
LEFT JOIN agency_aliases AS a ON a.alias = l.name_norm;

-- Compliance: one row per agency and year it was expected to report, for years whose deadline
-- has passed (or that it already reported), up to the newest year in the warehouse.
-- expected_from: 'first_report' — from the agency's first report found; 'registry' — a
-- registry row's agency of which no report was found, from the warehouse's first year.
-- present FALSE means no report found in any crawled column, not proof it was never published.
-- deadline: 1月31日 of the next year for departments, 3月31日 for governments (agency_kind;
-- 条例 第四十九条).  days_late: days after the deadline the report was published (0 when on
-- time; NULL when missing or its date is unknown).
CREATE OR REPLACE VIEW report_coverage AS
WITH h AS (
    SELECT min(year) AS first_year, max(year) AS last_year FROM report_base
),
provinces AS (
    SELECT province_code, any_value(province) AS province
    FROM report_base WHERE province IS NOT NULL GROUP BY province_code
),
ag AS (
    SELECT agency_key, agency, region_code, province_code, province, level, agency_kind,
           first_year, 'first_report' AS expected_from
    FROM agencies
    UNION ALL BY NAME
    SELECT r.agency_key, any_value(r.agency) AS agency, any_value(r.region_code) AS region_code,
           rpad(left(any_value(r.region_code), 2), 6, '0') AS province_code,
           NULL AS province, any_value(r.level) AS level,
           any_value(r.agency_kind) AS agency_kind,
           any_value(h.first_year) AS first_year, 'registry' AS expected_from
    FROM registry_agencies AS r, h
    WHERE r.agency_key NOT IN (SELECT agency_key FROM agencies)
    GROUP BY r.agency_key
),
expected AS (
    SELECT ag.* EXCLUDE (province, first_year),
           coalesce(ag.province, p.province) AS province,
           CAST(unnest(range(ag.first_year, h.last_year + 1)) AS SMALLINT) AS year
    FROM ag CROSS JOIN h
    LEFT JOIN provinces AS p ON p.province_code = ag.province_code
),
dated AS (
    SELECT e.*,
           make_date(e.year + 1, CASE e.agency_kind WHEN 'government' THEN 3 ELSE 1 END,
                     31) AS deadline
    FROM expected AS e
)
SELECT d.agency_key, d.agency, d.region_code, d.province_code, d.province, d.level,
       d.agency_kind, d.year,
       a.report_id IS NOT NULL AS present,
       a.report_id, a.published, d.deadline,
       CASE WHEN a.published IS NOT NULL
            THEN greatest(date_diff('day', d.deadline, a.published), 0) END AS days_late,
       a.published > d.deadline AS late,
       d.expected_from
FROM dated AS d
LEFT JOIN agency_years AS a ON a.agency_key = d.agency_key AND a.year = d.year
WHERE d.deadline < current_date OR a.report_id IS NOT NULL;

-- Numbers the report's own text states (transform/narrative.py: 共收到政府信息公开申请N件 …)
-- against its tables: requests_new ↔ requests.new.total, requests_handled ↔
-- requests.result_total.total, review ↔ appeals.review.total, suit ↔ both 诉讼 totals.
-- active_published has no table cell: ok NULL.  ok NULL also when the table cell is blank.
-- agrees_with: the cell(s) the stated number equals — the compared cell, or, for a number of
-- applications that is not this year's new ones, 新收 + 上年结转 (共受理749件 = 713 + 36: the
-- text counted the year's whole caseload).  ok stays FALSE there: the text says something else.
CREATE OR REPLACE VIEW narrative_checks AS
WITH s AS (
    SELECT report_id, year, agency_key, agency, format, unnest(statements) AS st
    FROM report_copies
    WHERE len(statements) > 0
)
SELECT s.report_id, s.year, s.agency_key, s.agency, s.st.quantity AS quantity,
       s.st.value AS stated,
       CASE s.st.quantity
           WHEN 'requests_new' THEN 'requests.new.total'
           WHEN 'requests_handled' THEN 'requests.result_total.total'
           WHEN 'review' THEN 'appeals.review.total'
           WHEN 'suit' THEN 'appeals.suit_direct.total + appeals.suit_after_review.total'
       END AS table_cell,
       CASE s.st.quantity
           WHEN 'requests_new' THEN v.requests__new__total
           WHEN 'requests_handled' THEN v.requests__result_total__total
           WHEN 'review' THEN v.appeals__review__total
           WHEN 'suit' THEN v.appeals__suit_direct__total + v.appeals__suit_after_review__total
       END AS table_value,
       CASE WHEN table_value IS NOT NULL THEN s.st.value = table_value END AS ok,
       CASE WHEN ok THEN table_cell
            WHEN s.st.quantity = 'requests_new'
                 AND s.st.value = v.requests__new__total + v.requests__carried_over__total
                THEN 'requests.new.total + requests.carried_over.total'
       END AS agrees_with,
       s.st.text AS text
FROM s
LEFT JOIN stored_report_values AS v USING (report_id);

CREATE OR REPLACE VIEW narrative_failures AS
SELECT * FROM narrative_checks WHERE ok = FALSE;

-- Per report, everything that spans reports: identity, copy, panel status (one join for the
-- views below instead of three).
CREATE OR REPLACE TABLE report_links AS
SELECT l.*, p.passes_panel_checks
FROM report_copy_links AS l
LEFT JOIN report_panel_status AS p USING (report_id);

-- Every report: as stored, plus agency_key / agency_kind, is_copy / duplicate_of
-- (report_duplicates) and passes_panel_checks (report_panel_status).
CREATE OR REPLACE VIEW reports AS
SELECT b.report_id, b.title, b.agency, l.agency_key, l.agency_kind,
       b.* EXCLUDE (report_id, title, agency, cells_digest, statements),
       l.is_copy, CASE WHEN l.is_copy THEN l.original END AS duplicate_of,
       l.passes_panel_checks,
       b.cells_digest, b.statements
FROM report_base AS b
JOIN report_links AS l USING (report_id);
