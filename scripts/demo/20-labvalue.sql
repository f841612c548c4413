-- Lab values as two hospitals print them: 兰州大学第二医院 reports glucose in mmol/L,
-- a county lab in mg/dL, white cells as ×10^9/L or /μL. ehr.labvalue keeps each result
-- as written, reads the report spellings as UCUM, converts with the significant digits
-- the measurement had, and interprets against either hospital's reference range.
\set ON_ERROR_STOP on
\pset footer off

\echo
\echo '== Results as printed on two reports, stored as ehr.labvalue (canonical UCUM spelling)'
SELECT hospital, item, printed, printed::ehr.labvalue AS stored
  FROM (VALUES ('兰州大学第二医院', '空腹血糖 GLU',  '5.60 mmol/L'),
               ('礼县人民医院',     '空腹血糖 GLU',  '101 mg/dL'),
               ('兰州大学第二医院', '白细胞 WBC',    '6.5 ×10^9/L'),
               ('礼县人民医院',     '白细胞 WBC',    '6500 /μL'),
               ('兰州大学第二医院', '肌酐 CREA',     '65 μmol/L'),
               ('礼县人民医院',     '谷丙转氨酶 ALT', '35 IU/L'),
               ('兰州大学第二医院', '肌钙蛋白 cTnI', '<0.01 ng/mL'),
               ('礼县人民医院',     '血压 BP',       '120 mmHg'),
               ('兰州大学第二医院', 'eGFR',          '>=90 mL/min/1.73m2')) AS r(hospital, item, printed);

\echo
\echo '== Converting: significant digits of the input plus one (glucose 180.156 g/mol, creatinine 113.12 g/mol)'
SELECT ehr.convert('5.60 mmol/L', 'mg/dL', 180.156) AS glucose_lz2,
       ehr.convert('101 mg/dL', 'mmol/L', 180.156) AS glucose_lixian,
       ehr.convert('6500 /uL', '10*9/L') AS wbc_lixian,
       ehr.convert('65 umol/L', 'mg/dL', 113.12) AS creatinine,
       ehr.convert('<0.01 ng/mL', 'pg/mL') AS ctni;

\echo
\echo '== Interpreting against the other hospital''s reference range (HL7 N/L/H, LL/HH)'
SELECT v AS result, r AS range, ehr.interpret(v::ehr.labvalue, r::ehr.refrange) AS code
  FROM (VALUES ('5.60 mmol/L', '[3.9,6.1] mmol/L'), ('6500 /uL', '[3.5,9.5] 10*9/L'),
               ('7.8 mmol/L', '3.9-6.1 mmol/L'), ('<0.01 ng/mL', '[0,0.04] ng/mL'),
               ('<0.06 ng/mL', '[0,0.04] ng/mL'), ('101 mg/dL', '[3.9,6.1] mmol/L')) AS t(v, r);
SELECT ehr.interpret('25.0 mmol/L', '[3.9,6.1] mmol/L', '[2.8,22.2] mmol/L') AS critical_glucose;
\echo '(NULL: a censored value spanning two zones, or mass vs substance without a molar mass)'

\echo
\echo '== Are two hospitals'' reference ranges the same interval?'
SELECT ehr.equivalent('[3.9,6.1] mmol/L', '[70,110] mg/dL', 180.156) AS glucose_ranges,
       ehr.equivalent('[0,40] U/L', '[0,40] [iU]/L') AS alt_u_vs_iu;
\echo '(U and [iU] are not comparable: UCUM arbitrary units)'
