-- UCUM units: normalisation of report spellings, commensurability, and conversions
-- (table-driven, every error case), with the significant-digit rule.
SET search_path = public, ehr;
CREATE FUNCTION pg_temp.try(expr text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; msg text; det text;
BEGIN
    EXECUTE 'SELECT (' || expr || ')::text' INTO r;
    RETURN coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

-- normalisation: report spelling -> canonical UCUM
SELECT spelling, ehr.unit_normalize(spelling) AS canonical, ehr.unit_normalize(spelling) = expected AS ok
  FROM (VALUES ('10^9/L', '10*9/L'), ('×10^9/L', '10*9/L'), ('×10⁹/L', '10*9/L'), ('10¹²/L', '10*12/L'),
               ('10*9/L', '10*9/L'), ('μmol/L', 'umol/L'), ('µmol/L', 'umol/L'), ('IU/L', '[iU]/L'),
               ('mIU/mL', 'm[iU]/mL'), ('μIU/mL', 'u[iU]/mL'), ('[IU]/L', '[iU]/L'), ('mmHg', 'mm[Hg]'),
               ('cmH2O', 'cm[H2O]'), ('mL/min/1.73m2', 'mL/min/{1.73_m2}'), ('mL/min/1.73m²', 'mL/min/{1.73_m2}'),
               ('m²', 'm2'), ('mmol/L', 'mmol/L'), ('mmol/l', 'mmol/l'), ('', ''), ('%', '%'),
               ('g/L', 'g/L'), ('U/L', 'U/L'), ('ukat/L', 'ukat/L'), ('meq/L', 'meq/L'), ('mosm/kg', 'mosm/kg'),
               ('fL', 'fL'), ('pg', 'pg'), ('s', 's'), ('/[HPF]', '/[HPF]'), ('{ratio}', '{ratio}'),
               ('m2', 'm2'), ('s-1', 's-1'), ('m+2', 'm2'), ('kg.m/s2', 'kg.m/s2'), ('(mg/dL)/h', '(mg/dL)/h'),
               ('10*-3', '10*-3'), ('daL', 'daL'), ('YL', 'YL'), ('yg', 'yg'), ('g%', 'g%'),
               ('10^3/uL', '10*3/uL'), ('  mg/dL  ', 'mg/dL')) AS t(spelling, expected);

-- unknown units and grammar errors: 22P02 naming the unit and the rule
SELECT spelling, pg_temp.try(format('ehr.unit_normalize(%L)', spelling)) AS error
  FROM (VALUES ('mmol/X'), ('xyz'), ('kmin'), ('mm Hg'), ('mg/'), ('/'), ('mg//L'), ('(mg'), ('mg)'),
               ('[abc'), ('[abc]'), ('{abc'), ('{a b}'), ('m-'), ('m100'), ('0/L'), ('3mg'),
               ('mg*L'), ('毫克'), ('10*x'), ('10*100'), (repeat('g.', 70) || 'g'), ('Cel'),
               ('[pH]'), ('m.'), ('.m'), ('((((((((((g))))))))))')) AS t(spelling);
-- hostile lengths fail fast, without deep recursion (the message, which repeats the
-- input, is cut here)
SELECT length(spelling) AS length,
       regexp_replace(pg_temp.try(format('ehr.unit_normalize(%L)', spelling)), '^(\w+): .* / ', '\1: … / ') AS error
  FROM (VALUES (repeat('(', 100000)), (repeat('(', 500) || 'g' || repeat(')', 500)),
               (repeat('m', 600)), (repeat('{', 100000))) AS t(spelling);
SELECT ehr.unit_normalize('mmol/X');
\echo :LAST_ERROR_SQLSTATE

-- commensurability (mol is its own dimension; arbitrary units only match themselves)
SELECT a, b, ehr.unit_commensurable(a, b)
  FROM (VALUES ('mmol/L', 'umol/mL'), ('mmol/L', 'mg/dL'), ('g/L', 'mg/dL'), ('U/L', 'ukat/L'),
               ('[iU]/L', 'm[iU]/mL'), ('[iU]/L', 'U/L'), ('mm[Hg]', 'kPa'), ('%', ''),
               ('10*9/L', '/nL'), ('mL/min/{1.73_m2}', 'mL/min'), ('h', 'd'), ('meq/L', 'mmol/L'),
               ('g%', 'g/dL'), ('[arb''U]', '[iU]'), ('m[H2O]', 'mm[Hg]')) AS t(a, b);

-- conversions: significant digits of the input plus one; comparator kept; an exact
-- factor of one keeps the digits as written
SELECT v, unit, molar_mass, got, got = expected AS ok
  FROM (SELECT v, unit, molar_mass, expected,
               CASE WHEN molar_mass IS NULL THEN ehr.convert(v::ehr.labvalue, unit)
                    ELSE ehr.convert(v::ehr.labvalue, unit, molar_mass) END::text AS got
          FROM (VALUES ('5.6 mmol/L', 'mg/dL', 180.156, '101 mg/dL'),          -- glucose
                       ('5.60 mmol/L', 'mg/dL', 180.156, '100.9 mg/dL'),
                       ('101 mg/dL', 'mmol/L', 180.156, '5.606 mmol/L'),
                       ('7.0 mmol/L', 'mg/dL', 180.156, '126 mg/dL'),
                       ('65 umol/L', 'mg/dL', 113.12, '0.735 mg/dL'),          -- creatinine
                       ('1.2 mg/dL', 'umol/L', 113.12, '106 umol/L'),
                       ('5.2 mmol/L', 'mg/dL', 386.65, '201 mg/dL'),           -- cholesterol
                       ('1 g/L', 'mg/dL', NULL, '100 mg/dL'),
                       ('5.6 g/L', 'mg/L', NULL, '5600 mg/L'),
                       ('120 mm[Hg]', 'kPa', NULL, '16.00 kPa'),
                       ('16.0 kPa', 'mmHg', NULL, '120.0 mm[Hg]'),
                       ('10 cm[H2O]', 'mm[Hg]', NULL, '7.36 mm[Hg]'),
                       ('1 h', 'min', NULL, '60 min'),
                       ('1.5 d', 'h', NULL, '36.0 h'),
                       ('1 wk', 'd', NULL, '7.0 d'),
                       ('35 U/L', 'ukat/L', NULL, '0.583 ukat/L'),
                       ('0.583 ukat/L', 'U/L', NULL, '34.98 U/L'),
                       ('1 kat', 'U', NULL, '60000000 U'),
                       ('12 mIU/mL', '[iU]/L', NULL, '12 [iU]/L'),
                       ('6.5 10^9/L', '/nL', NULL, '6.5 /nL'),
                       ('6.5 10^9/L', '/uL', NULL, '6500 /uL'),
                       ('6500 /uL', '10*9/L', NULL, '6.5000 10*9/L'),
                       ('4.5 10*12/L', '10*6/uL', NULL, '4.5 10*6/uL'),
                       ('45 %', '', NULL, '0.450'),
                       ('0.45', '%', NULL, '45.0 %'),
                       ('140 mmol/L', 'meq/L', NULL, '140 meq/L'),
                       ('5 mg%', 'mg/dL', NULL, '5 mg/dL'),
                       ('<0.01 ng/mL', 'pg/mL', NULL, '<10 pg/mL'),
                       ('>1000 U/L', 'U/mL', NULL, '>1.0000 U/mL'),
                       ('>=90 mL/min/{1.73_m2}', 'L/h', NULL, '>=5.40 L/h'),
                       ('-2.3 mmol/L', 'umol/L', NULL, '-2300 umol/L'),
                       ('0.00 mg/dL', 'g/L', NULL, '0 g/L'),
                       ('5.6 mmol/L', 'mmol/l', NULL, '5.6 mmol/l'),
                       ('5.6 mmol/L', 'mmol/L', 180.156, '5.6 mmol/L'),
                       ('3 mg', 'g', NULL, '0.0030 g'),
                       ('1.5e3 /uL', '10*9/L', NULL, '1.50 10*9/L'),
                       ('999999999999999999 ug', 'g', NULL, '1000000000000.00 g'),
                       ('1 [iU]', 'k[iU]', NULL, '0.0010 k[iU]')) AS t(v, unit, molar_mass, expected)) c;

-- round trip through another unit stays within the kept digits
SELECT ehr.convert(ehr.convert('5.6 mmol/L', 'mg/dL', 180.156), 'mmol/L', 180.156) AS there_and_back;

-- conversion errors
SELECT v, unit, molar_mass,
       pg_temp.try(CASE WHEN molar_mass IS NULL THEN format('ehr.convert(%L::ehr.labvalue, %L)', v, unit)
                        ELSE format('ehr.convert(%L::ehr.labvalue, %L, %L::float8)', v, unit, molar_mass) END) AS error
  FROM (VALUES ('5.6 mmol/L', 'mmol/X', NULL),            -- unknown unit: 22P02
               ('5.6 mmol/L', 'mg / dL', NULL),
               ('5.6 mmol/L', 'U/L', NULL),               -- incommensurable: 22023 naming both
               ('5.6 mmol/L', 'mg/dL', NULL),             -- needs a molar mass
               ('5.6 mmol/L', 'mg', '180.156'),           -- incommensurable even with one
               ('35 IU/L', 'U/L', NULL),                  -- arbitrary unit
               ('35 U/L', '[iU]/L', NULL),
               ('1 [arb''U]', '[iU]', NULL),
               ('5.6 mmol/L', 'mg/dL', '0'),              -- bad molar masses
               ('5.6 mmol/L', 'mg/dL', '-180'),
               ('5.6 mmol/L', 'mg/dL', 'NaN'),
               ('5.6 mmol/L', 'mg/dL', 'Infinity'),
               ('1e99 g', 'yg', NULL),                    -- out of range
               ('1e-99 Yg', 'yg', NULL),
               ('1e-99 yg', 'Yg', NULL),
               ('7.40', 'mmol/L', NULL)) AS t(v, unit, molar_mass);
SELECT ehr.convert('5.6 mmol/L', 'U/L');
\echo :LAST_ERROR_SQLSTATE
SELECT ehr.convert('5.6 mmol/L', 'mmol/X');
\echo :LAST_ERROR_SQLSTATE

-- more distinct units at one call site than the per-call-site cache holds (8): every
-- row still converts right while slots are evicted (same value back, numerically)
SELECT count(*) AS conversions,
       count(*) FILTER (WHERE ehr.value(ehr.convert(ehr.convert(v, u), ehr.unit(v))) = ehr.value(v)
                          AND ehr.unit(ehr.convert(v, u)) = ehr.unit_normalize(u)) AS back_to_same_value
  FROM (SELECT (x || ' ' || a)::ehr.labvalue AS v, b AS u
          FROM unnest(ARRAY['g/L', 'mg/dL', 'ug/mL', 'ng/uL', 'kg/m3', 'mg/L', 'g/dL', 'ug/L',
                            'ng/mL', 'pg/uL', 'g%', 'mg%']) a,
               unnest(ARRAY['mg/mL', 'g/L', 'ug/L', 'mg/dL', 'ng/L', 'kg/L', 'g/mL', 'pg/mL',
                            'ug/dL', 'mg/uL', 'dg/L', 'cg/L']) b,
               unnest(ARRAY['1', '2', '5']) x) s;
