-- Researcher views (formats.md §11, Q1–Q12).  Column `total` of the requests table unless a
-- name says otherwise.  Sums are strict: NULL when any operand cell is blank, never a guess.
-- Rates have NULL-safe denominators.  Every row carries passes_checks (no failed identity
-- check) and passes_panel_checks (no failed check against the agency's previous or next
-- report; NULL when the report is not in agency_years) so a researcher can filter.  Each
-- report counts once: copies listed in report_duplicates are left out, the original kept.
-- Totals add up every other report: an aggregate (region-wide) report and its member
-- agencies' reports are both counted (formats.md D12).

-- One row per report: the counts behind Q1–Q8 and the per-report rates.  One join of reports
-- with report_values (a report id is one row in each): every researcher total starts here.
CREATE OR REPLACE VIEW report_summary AS
WITH v AS (
    SELECT r.report_id, r.year, r.agency, r.agency_key, r.level, r.region_code, r.province_code,
        r.format, r.province, r.city_code, r.city, r.county_code, r.county, r.region_source,
        r.passes_checks, r.passes_panel_checks, r.n_checks_failed,
        requests__new__total AS new,
        requests__carried_over__total AS carried_over,
        requests__granted__total AS granted,
        requests__partial__total AS partial,
        requests__deny_state_secret__total + requests__deny_law_prohibited__total
            + requests__deny_three_security__total + requests__deny_third_party__total
            + requests__deny_internal_affairs__total + requests__deny_process_info__total
            + requests__deny_enforcement_file__total + requests__deny_query_matter__total
            AS deny_sum,
        requests__unable_not_held__total + requests__unable_needs_creation__total
            + requests__unable_unclear__total AS unable_sum,
        requests__reject_petition__total + requests__reject_duplicate__total
            + requests__reject_publication__total + requests__reject_mass_repeat__total
            + requests__reject_confirm__total AS reject_sum,
        CASE r.format
            WHEN '2019' THEN requests__other_handling__total
            ELSE requests__other_no_correction__total + requests__other_no_fee__total
                + requests__other_other__total
        END AS other_sum,
        requests__result_total__total AS result_total,
        requests__carried_forward__total AS carried_forward,
        requests__unable_not_held__total AS unable_not_held,
        requests__reject_petition__total + requests__reject_duplicate__total
            + requests__reject_mass_repeat__total AS abusive,
        requests__other_no_fee__total AS other_no_fee,
        requests__new__natural AS new_natural,
        requests__new__commercial + requests__new__research + requests__new__ngo
            + requests__new__legal_service + requests__new__other_org AS new_org,
        requests__new__commercial AS new_commercial,
        requests__new__legal_service AS new_legal_service,
        appeals__review__corrected AS review_corrected,
        appeals__review__pending AS review_pending,
        appeals__review__total AS review_total,
        appeals__suit_direct__corrected + appeals__suit_after_review__corrected AS suit_corrected,
        appeals__suit_direct__pending + appeals__suit_after_review__pending AS suit_pending,
        appeals__suit_direct__total + appeals__suit_after_review__total AS suit_total
    FROM reports AS r
    JOIN stored_report_values AS x USING (report_id)
    WHERE r.format IS NOT NULL AND NOT r.is_copy
)
SELECT v.*,
       (v.granted + v.partial) / NULLIF(v.result_total, 0) AS disclosure_rate,
       (v.granted + v.partial)
           / NULLIF(v.result_total - v.reject_sum - v.other_sum, 0) AS disclosure_rate_foi,
       v.abusive / NULLIF(v.result_total, 0) AS abusive_share,
       v.carried_forward / NULLIF(v.new + v.carried_over, 0) AS backlog_ratio,
       v.review_corrected / NULLIF(v.review_total - v.review_pending, 0) AS review_correction_rate,
       v.suit_corrected / NULLIF(v.suit_total - v.suit_pending, 0) AS suit_correction_rate,
       (v.review_total + v.suit_total) / NULLIF(v.result_total - v.granted, 0) AS appeal_propensity
FROM v;

-- Q1 per report: (granted + partial) / result_total; _foi leaves out non-FOI handling
-- (reject_sum, other_sum) from the denominator.
CREATE OR REPLACE VIEW disclosure_rate AS
SELECT report_id, year, agency, agency_key, level, region_code, province_code, format,
       passes_checks, passes_panel_checks,
       granted, partial, result_total, reject_sum, other_sum, disclosure_rate, disclosure_rate_foi
FROM report_summary;

-- Q1 by year × region: pooled rate (Σ disclosed / Σ handled over reports with a rate), the
-- plain mean of report rates, and the pooled rate over reports passing every check.  The
-- region is region_code (the best known code) with the names of its levels.
CREATE OR REPLACE VIEW disclosure_rate_by_year_region AS
SELECT year, province_code, any_value(province) AS province, region_code,
       any_value(city) AS city, any_value(county) AS county,
       count(*) AS n_reports,
       count(disclosure_rate) AS n_with_rate,
       sum(granted + partial) FILTER (WHERE disclosure_rate IS NOT NULL) AS disclosed,
       sum(result_total) FILTER (WHERE disclosure_rate IS NOT NULL) AS handled,
       disclosed / NULLIF(handled, 0) AS disclosure_rate,
       avg(disclosure_rate) AS mean_disclosure_rate,
       sum(granted + partial) FILTER (WHERE disclosure_rate IS NOT NULL AND passes_checks)
           / NULLIF(sum(result_total) FILTER (WHERE disclosure_rate IS NOT NULL AND passes_checks), 0)
           AS disclosure_rate_passing,
       count(*) FILTER (WHERE passes_checks AND passes_panel_checks) AS n_passing_both,
       sum(granted + partial) FILTER (WHERE disclosure_rate IS NOT NULL AND passes_checks
                                        AND passes_panel_checks)
           / NULLIF(sum(result_total) FILTER (WHERE disclosure_rate IS NOT NULL AND passes_checks
                                                AND passes_panel_checks), 0)
           AS disclosure_rate_passing_both
FROM report_summary
GROUP BY year, province_code, region_code;

-- Q2 per report × refusal reason: count and share of the report's deny_sum.
CREATE OR REPLACE VIEW denial_reasons AS
SELECT f.report_id, s.year, s.agency, s.agency_key, s.region_code, s.province_code, s.format,
       s.passes_checks, s.passes_panel_checks,
       f.item, l.item_zh, l.item_en,
       f.value AS n, s.deny_sum,
       f.value / NULLIF(s.deny_sum, 0) AS share
FROM stored_facts AS f
JOIN report_summary AS s USING (report_id)
LEFT JOIN cell_labels AS l
       ON l.format = f.format AND l."table" = f."table" AND l.item = f.item AND l."column" = f."column"
WHERE f."table" = 'requests' AND f."column" = 'total' AND starts_with(f.item, 'deny_');

-- Q2 by year: each reason's share of all refusals, over reports whose eight deny cells are
-- all filled (so shares add up to 1 per year).  The same numbers as aggregating denial_reasons
-- (one fact per cell and report), read from report_values — eight columns of one row per
-- report instead of scanning the facts (2 × 10^8 rows nationally) — and summed per year and
-- format before the labels are joined.  denial_shares(passing_only): one definition for both
-- views; denial_reason_shares_passing counts only reports passing every identity and panel check.
CREATE OR REPLACE MACRO denial_shares(passing_only) AS TABLE
WITH by_format AS (
    SELECT s.year, s.format, count(*) AS n_reports,
           sum(x.requests__deny_state_secret__total) AS deny_state_secret,
           sum(x.requests__deny_law_prohibited__total) AS deny_law_prohibited,
           sum(x.requests__deny_three_security__total) AS deny_three_security,
           sum(x.requests__deny_third_party__total) AS deny_third_party,
           sum(x.requests__deny_internal_affairs__total) AS deny_internal_affairs,
           sum(x.requests__deny_process_info__total) AS deny_process_info,
           sum(x.requests__deny_enforcement_file__total) AS deny_enforcement_file,
           sum(x.requests__deny_query_matter__total) AS deny_query_matter
    FROM report_summary AS s
    JOIN stored_report_values AS x USING (report_id)
    WHERE s.deny_sum IS NOT NULL
      AND (NOT passing_only OR coalesce(s.passes_checks AND s.passes_panel_checks, FALSE))
    GROUP BY s.year, s.format
), d AS (
    UNPIVOT by_format ON COLUMNS(* EXCLUDE (year, format, n_reports)) INTO NAME item VALUE n
)
SELECT d.year, d.item, any_value(l.item_zh) AS item_zh, any_value(l.item_en) AS item_en,
       sum(d.n_reports)::BIGINT AS n_reports,
       sum(d.n) AS n,
       sum(d.n) / NULLIF(sum(sum(d.n)) OVER (PARTITION BY d.year), 0) AS share
FROM d
LEFT JOIN cell_labels AS l
       ON l.format = d.format AND l."table" = 'requests' AND l.item = d.item AND l."column" = 'total'
GROUP BY d.year, d.item;

CREATE OR REPLACE VIEW denial_reason_shares AS SELECT * FROM denial_shares(FALSE);

CREATE OR REPLACE VIEW denial_reason_shares_passing AS SELECT * FROM denial_shares(TRUE);

-- Q7 per report: corrected / decided (total − pending), for 复议 and for 诉讼 (both kinds).
CREATE OR REPLACE VIEW correction_rates AS
SELECT report_id, year, agency, agency_key, level, region_code, province_code, format,
       passes_checks, passes_panel_checks,
       review_corrected, review_total - review_pending AS review_decided, review_correction_rate,
       suit_corrected, suit_total - suit_pending AS suit_decided, suit_correction_rate
FROM report_summary;

-- Q7 by year, pooled.
CREATE OR REPLACE VIEW correction_rates_by_year AS
SELECT year,
       count(*) AS n_reports,
       sum(review_corrected) AS review_corrected,
       sum(review_decided) AS review_decided,
       sum(review_corrected) / NULLIF(sum(review_decided), 0) AS review_correction_rate,
       sum(suit_corrected) AS suit_corrected,
       sum(suit_decided) AS suit_decided,
       sum(suit_corrected) / NULLIF(sum(suit_decided), 0) AS suit_correction_rate,
       sum(review_corrected) FILTER (WHERE passes_checks AND passes_panel_checks)
           / NULLIF(sum(review_decided) FILTER (WHERE passes_checks AND passes_panel_checks), 0)
           AS review_correction_rate_passing_both,
       sum(suit_corrected) FILTER (WHERE passes_checks AND passes_panel_checks)
           / NULLIF(sum(suit_decided) FILTER (WHERE passes_checks AND passes_panel_checks), 0)
           AS suit_correction_rate_passing_both
FROM correction_rates
GROUP BY year;

-- Q5/Q12 totals by province (6-digit province_code, e.g. 320000, and its name) and year:
-- sums over reports, blank cells left out.
CREATE OR REPLACE VIEW totals_by_province_year AS
SELECT province_code, any_value(province) AS province, year,
       count(*) AS n_reports,
       sum(new) AS new, sum(carried_over) AS carried_over,
       sum(granted) AS granted, sum(partial) AS partial,
       sum(deny_sum) AS deny_sum, sum(unable_sum) AS unable_sum,
       sum(reject_sum) AS reject_sum, sum(other_sum) AS other_sum,
       sum(result_total) AS result_total, sum(carried_forward) AS carried_forward,
       sum(review_total) AS review_total, sum(review_corrected) AS review_corrected,
       sum(suit_total) AS suit_total, sum(suit_corrected) AS suit_corrected
FROM report_summary
GROUP BY province_code, year;

-- National totals by year: the provincial rows added up.
CREATE OR REPLACE VIEW totals_by_year AS
SELECT year, sum(n_reports)::BIGINT AS n_reports,
       sum(COLUMNS(* EXCLUDE (province_code, province, year, n_reports)))
FROM totals_by_province_year
GROUP BY year;

-- Q10: share of reports with at least one failed check, by year.
CREATE OR REPLACE VIEW check_failure_rate_by_year AS
SELECT year,
       count(*) AS n_reports,
       count(*) FILTER (WHERE NOT passes_checks) AS n_failing,
       n_failing / count(*) AS failure_rate,
       sum(n_checks)::BIGINT AS n_checks,
       sum(n_checks_failed)::BIGINT AS n_checks_failed,
       sum(n_checks_skipped)::BIGINT AS n_checks_skipped
FROM reports
WHERE NOT is_copy
GROUP BY year;
