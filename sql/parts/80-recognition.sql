-- Mutual recognition of lab and exam results (检查检验结果互认), DESIGN §7.
--
-- The rules are those of the 2022 national measures (国卫医发〔2022〕6号,
-- 《检查检验结果互认管理办法》) with the regional practice that fills them in:
-- validity windows set per province or city, external quality assessment
-- (室间质评) marks that carry their scope (甘HR), medical alliances (医联体).
-- The judgement of each candidate result is done in C (recognition.c), which
-- loads the catalogue, windows, qualifications and reference ranges once per
-- call and reads the results as the caller, under row-level security.

-- ---------------------------------------------------------------------------
-- Catalogue: LOINC check digit and the scope of each item.

CREATE FUNCTION ehr.is_valid_loinc(text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ehr_is_valid_loinc'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ehr.is_valid_loinc(text) IS
    'True when the text is a LOINC code (1-7 digits, hyphen, check digit) whose mod-10 check digit is right; never raises';

ALTER TABLE ehr.lab_item
    ADD COLUMN scope text NOT NULL DEFAULT 'national'
        CONSTRAINT lab_item_scope_check
        CHECK (scope IN ('national', 'province', 'city', 'alliance')),
    ADD CONSTRAINT lab_item_loinc_mod10 CHECK (ehr.is_valid_loinc(loinc));
COMMENT ON COLUMN ehr.lab_item.scope IS
    'Catalogue level at which the item is mutually recognized: national, province, city or alliance (医联体 only)';

-- ---------------------------------------------------------------------------
-- Validity windows: regional, the most specific region prefix wins.

CREATE TABLE ehr.lab_item_window (
    region_prefix text NOT NULL
        CONSTRAINT lab_item_window_prefix_check CHECK (region_prefix ~ '^[0-9]{0,6}$'),
    item          text NOT NULL REFERENCES ehr.lab_item (code),
    valid_for     interval NOT NULL
        CONSTRAINT lab_item_window_positive CHECK (valid_for > interval '0'),
    PRIMARY KEY (item, region_prefix)
);
COMMENT ON TABLE ehr.lab_item_window IS
    'How long a result stays recognizable, per region and item; the longest region prefix matching the recognizing institution''s region wins, '''' is the national default';
COMMENT ON COLUMN ehr.lab_item_window.region_prefix IS
    'Prefix of a GB/T 2260 region code: '''' national, 2 digits a province, 4 a city, 6 a county';
COMMENT ON COLUMN ehr.lab_item_window.item IS 'The lab item (ehr.lab_item.code)';
COMMENT ON COLUMN ehr.lab_item_window.valid_for IS
    'Longest time from collection to recognition; a result exactly this old is still valid';
SELECT pg_catalog.pg_extension_config_dump('ehr.lab_item_window', '');

-- ---------------------------------------------------------------------------
-- External quality assessment qualifications (室间质评合格).

CREATE TABLE ehr.lab_qc (
    institution  ehr.org_code NOT NULL REFERENCES ehr.institution (org),
    item         text NOT NULL REFERENCES ehr.lab_item (code),
    valid        daterange NOT NULL
        CONSTRAINT lab_qc_valid_check CHECK (NOT isempty(valid)),
    scope_region text NOT NULL
        CONSTRAINT lab_qc_scope_check CHECK (scope_region ~ '^[0-9]{0,6}$'),
    mark         text NOT NULL
        CONSTRAINT lab_qc_mark_check CHECK (mark <> ''),
    PRIMARY KEY (institution, item, valid)
);
CREATE INDEX lab_qc_item_idx ON ehr.lab_qc (item);
COMMENT ON TABLE ehr.lab_qc IS
    'External quality assessment qualification (室间质评合格) of an institution for an item: when it holds, where it is recognized, and the mark printed on reports';
COMMENT ON COLUMN ehr.lab_qc.institution IS 'The qualified laboratory''s institution';
COMMENT ON COLUMN ehr.lab_qc.item IS 'The lab item (ehr.lab_item.code)';
COMMENT ON COLUMN ehr.lab_qc.valid IS 'Days on which the qualification holds; it must contain the collection date';
COMMENT ON COLUMN ehr.lab_qc.scope_region IS
    'Region prefix where results are recognized: '''' nationwide, 62 Gansu, 6201 Lanzhou';
COMMENT ON COLUMN ehr.lab_qc.mark IS 'Recognition mark printed on the report, e.g. 甘HR';
SELECT pg_catalog.pg_extension_config_dump('ehr.lab_qc', '');

-- ---------------------------------------------------------------------------
-- Local reference ranges.

CREATE TABLE ehr.lab_refrange (
    institution ehr.org_code NOT NULL REFERENCES ehr.institution (org),
    item        text NOT NULL REFERENCES ehr.lab_item (code),
    refrange    ehr.refrange NOT NULL,
    sex         text CONSTRAINT lab_refrange_sex_check CHECK (sex IN ('male', 'female')),
    ages        int4range,
    UNIQUE NULLS NOT DISTINCT (institution, item, sex, ages)
);
CREATE INDEX lab_refrange_item_idx ON ehr.lab_refrange (item);
COMMENT ON TABLE ehr.lab_refrange IS
    'Reference range an institution uses for an item, optionally per sex and age band; the most specific matching row applies';
COMMENT ON COLUMN ehr.lab_refrange.institution IS 'The institution whose laboratory uses this range';
COMMENT ON COLUMN ehr.lab_refrange.item IS 'The lab item (ehr.lab_item.code)';
COMMENT ON COLUMN ehr.lab_refrange.refrange IS 'The reference interval with its unit';
COMMENT ON COLUMN ehr.lab_refrange.sex IS 'male or female; NULL for both';
COMMENT ON COLUMN ehr.lab_refrange.ages IS 'Ages in whole years the range applies to; NULL for all ages';
SELECT pg_catalog.pg_extension_config_dump('ehr.lab_refrange', '');

-- ---------------------------------------------------------------------------
-- Medical alliances (医联体).

CREATE TABLE ehr.alliance (
    id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);
COMMENT ON TABLE ehr.alliance IS 'Medical alliance (医联体): institutions that recognize each other''s alliance-scoped items';
COMMENT ON COLUMN ehr.alliance.id IS 'Alliance identifier';
COMMENT ON COLUMN ehr.alliance.name IS 'Alliance name, e.g. 兰大二院医联体';
SELECT pg_catalog.pg_extension_config_dump('ehr.alliance', '');
SELECT pg_catalog.pg_extension_config_dump('ehr.alliance_id_seq', '');

CREATE TABLE ehr.alliance_member (
    alliance    bigint NOT NULL REFERENCES ehr.alliance (id) ON DELETE CASCADE,
    institution ehr.org_code NOT NULL REFERENCES ehr.institution (org),
    PRIMARY KEY (alliance, institution)
);
CREATE INDEX alliance_member_institution_idx ON ehr.alliance_member (institution);
COMMENT ON TABLE ehr.alliance_member IS 'Membership of institutions in medical alliances';
COMMENT ON COLUMN ehr.alliance_member.alliance IS 'The alliance (ehr.alliance.id)';
COMMENT ON COLUMN ehr.alliance_member.institution IS 'A member institution';
SELECT pg_catalog.pg_extension_config_dump('ehr.alliance_member', '');

-- Clinicians and gateways read the catalogue (the judgement runs as the caller),
-- administrators maintain it; analysts read nothing in schema ehr (they get
-- recognition_stats' aggregates and the ehr_deid datasets).
GRANT SELECT ON ehr.lab_item_window, ehr.lab_qc, ehr.lab_refrange, ehr.alliance, ehr.alliance_member
    TO ehr_clinician, ehr_gateway, ehr_admin;
GRANT INSERT, UPDATE, DELETE ON ehr.lab_item_window, ehr.lab_qc, ehr.lab_refrange,
    ehr.alliance, ehr.alliance_member TO ehr_admin;

-- The published Hubei example (湖北省, prefix 42): chemistry 30 days, HbA1c 60
-- days, electrolytes K, Na, Cl, Ca, Mg 7 days. It ships as a loader rather than
-- as rows of the install script: catalogue tables are user data that pg_dump
-- keeps, and rows the script inserted would collide with the dumped ones on
-- restore. Items missing from the catalogue are added under the platform's codes
-- (LOINC of the property reported, UCUM unit, molar mass, a typical Gansu fee in
-- CNY); existing items and windows are left as they are.
CREATE FUNCTION ehr.load_hubei_windows() RETURNS integer
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    AS $$
DECLARE
    n integer;
BEGIN
    INSERT INTO ehr.lab_item (code, name, kind, loinc, unit, molar_mass, price)
    VALUES ('GLU',   '葡萄糖',             'lab', '14749-6', 'mmol/L', 180.156, 8),
           ('TC',    '总胆固醇',           'lab', '14647-2', 'mmol/L', 386.65,  6),
           ('TG',    '甘油三酯',           'lab', '14927-8', 'mmol/L', 885.7,   8),
           ('HDLC',  '高密度脂蛋白胆固醇', 'lab', '14646-4', 'mmol/L', 386.65,  10),
           ('LDLC',  '低密度脂蛋白胆固醇', 'lab', '22748-8', 'mmol/L', 386.65,  10),
           ('TP',    '总蛋白',             'lab', '2885-2',  'g/L',    NULL,    4),
           ('ALB',   '白蛋白',             'lab', '1751-7',  'g/L',    NULL,    4),
           ('TBIL',  '总胆红素',           'lab', '14631-6', 'umol/L', 584.66,  5),
           ('HBA1C', '糖化血红蛋白',       'lab', '4548-4',  '%',      NULL,    60),
           ('K',     '钾',                 'lab', '2823-3',  'mmol/L', 39.098,  5),
           ('NA',    '钠',                 'lab', '2951-2',  'mmol/L', 22.990,  5),
           ('CL',    '氯',                 'lab', '2075-0',  'mmol/L', 35.45,   5),
           ('CA',    '钙',                 'lab', '2000-8',  'mmol/L', 40.078,  5),
           ('MG',    '镁',                 'lab', '19123-9', 'mmol/L', 24.305,  5)
    ON CONFLICT (code) DO NOTHING;

    INSERT INTO ehr.lab_item_window (region_prefix, item, valid_for)
    SELECT '42', w.item, w.valid_for
      FROM (VALUES ('GLU', interval '30 days'), ('TC', '30 days'), ('TG', '30 days'),
                   ('HDLC', '30 days'), ('LDLC', '30 days'), ('TP', '30 days'),
                   ('ALB', '30 days'), ('TBIL', '30 days'), ('HBA1C', '60 days'),
                   ('K', '7 days'), ('NA', '7 days'), ('CL', '7 days'), ('CA', '7 days'),
                   ('MG', '7 days')) AS w(item, valid_for)
    ON CONFLICT (item, region_prefix) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION ehr.load_hubei_windows() IS
    'Load the published Hubei validity windows (prefix 42: chemistry 30 days, HbA1c 60, electrolytes 7) and their items when missing; returns the windows added';
REVOKE ALL ON FUNCTION ehr.load_hubei_windows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.load_hubei_windows() TO ehr_admin;

-- ---------------------------------------------------------------------------
-- Decisions (ehr.recognition).

CREATE TABLE ehr.recognition (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    result      bigint NOT NULL REFERENCES ehr.lab_result (id),
    encounter   bigint NOT NULL REFERENCES ehr.encounter (id),
    accepted    boolean NOT NULL,
    reason      text CONSTRAINT recognition_reason_check CHECK (reason IN
                    ('condition_changed', 'rapid_change', 'major_procedure', 'emergency', 'appraisal',
                     'other', 'patient_request', 'qc_failed', 'too_old')),
    note        text,
    resident    ehr.resident_id NOT NULL,
    institution ehr.org_code NOT NULL,
    source      ehr.org_code NOT NULL,
    item        text NOT NULL,
    verdict     text NOT NULL
        CONSTRAINT recognition_verdict_check CHECK (verdict IN ('recognized', 'recognized_with_note')),
    notes       text[] NOT NULL DEFAULT '{}',
    fee_saved   numeric NOT NULL DEFAULT 0,
    decided_by  name NOT NULL DEFAULT current_user,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recognition_refusal_needs_reason CHECK (accepted OR reason IS NOT NULL),
    CONSTRAINT recognition_accept_has_no_reason CHECK (NOT accepted OR reason IS NULL),
    CONSTRAINT recognition_other_needs_note CHECK (reason IS DISTINCT FROM 'other' OR coalesce(note, '') <> '')
);
CREATE INDEX recognition_institution_decided_idx ON ehr.recognition (institution, decided_at);
CREATE INDEX recognition_result_idx ON ehr.recognition (result);
CREATE INDEX recognition_encounter_idx ON ehr.recognition (encounter);
COMMENT ON TABLE ehr.recognition IS
    'A doctor''s decision on a recognizable result from another institution: accepted (no re-test) or refused with a re-test reason; append-only';
COMMENT ON COLUMN ehr.recognition.id IS 'Decision identifier';
COMMENT ON COLUMN ehr.recognition.result IS 'The recognized or refused result (ehr.lab_result.id)';
COMMENT ON COLUMN ehr.recognition.encounter IS 'The encounter at the recognizing institution in which the doctor decided';
COMMENT ON COLUMN ehr.recognition.accepted IS 'True: the result is used and the test is not repeated';
COMMENT ON COLUMN ehr.recognition.reason IS
    'Re-test reason when refused: condition_changed, rapid_change, major_procedure, emergency, appraisal, other (national); patient_request, qc_failed, too_old (regional)';
COMMENT ON COLUMN ehr.recognition.note IS 'Free text; required with reason other';
COMMENT ON COLUMN ehr.recognition.resident IS 'The patient (copied from the result)';
COMMENT ON COLUMN ehr.recognition.institution IS 'The recognizing institution (the encounter''s)';
COMMENT ON COLUMN ehr.recognition.source IS 'The institution that issued the result';
COMMENT ON COLUMN ehr.recognition.item IS 'The lab item';
COMMENT ON COLUMN ehr.recognition.verdict IS 'The verdict at decision time: recognized or recognized_with_note';
COMMENT ON COLUMN ehr.recognition.notes IS 'Notes at decision time: unit_converted, reference_range_differs';
COMMENT ON COLUMN ehr.recognition.fee_saved IS 'The item''s price when accepted (CNY), else 0';
COMMENT ON COLUMN ehr.recognition.decided_by IS 'Database role that recorded the decision';
COMMENT ON COLUMN ehr.recognition.decided_at IS 'When the decision was recorded';
SELECT pg_catalog.pg_extension_config_dump('ehr.recognition', '');
SELECT pg_catalog.pg_extension_config_dump('ehr.recognition_id_seq', '');

-- ---------------------------------------------------------------------------
-- The judgement (C). PARALLEL RESTRICTED, not SAFE: the results are read under
-- row-level security, whose check (ehr.can_access) is itself restricted.

CREATE FUNCTION ehr.recognition_candidates(resident ehr.resident_id, items text[],
                                           at_institution ehr.org_code DEFAULT NULL,
                                           at timestamptz DEFAULT now(),
                                           best_only boolean DEFAULT false)
    RETURNS TABLE (result bigint, item text, institution ehr.org_code, collected_at timestamptz,
                   age interval, status text, value ehr.labvalue, converted ehr.labvalue,
                   refrange ehr.refrange, local_refrange ehr.refrange, verdict text, reason text,
                   notes text[], mark text, valid_until timestamptz, fee numeric,
                   item_name text, institution_name text)
    AS 'MODULE_PATHNAME', 'ehr_recognition_candidates'
    LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 20;
REVOKE ALL ON FUNCTION ehr.recognition_candidates(ehr.resident_id, text[], ehr.org_code, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_candidates(ehr.resident_id, text[], ehr.org_code, timestamptz, boolean) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognition_candidates(ehr.resident_id, text[], ehr.org_code, timestamptz, boolean) IS
    'Every result of the resident for the items, judged for recognition at an institution (default: the acting practitioner''s) and time (best_only: one row per ordered item, the best candidate or reason no_result); reads as the caller, under row-level security';

CREATE FUNCTION ehr.recognizable_results(resident ehr.resident_id, item text,
                                         at_institution ehr.org_code DEFAULT NULL,
                                         at timestamptz DEFAULT now())
    RETURNS TABLE (result bigint, institution ehr.org_code, collected_at timestamptz, age interval,
                   status text, value ehr.labvalue, converted ehr.labvalue, refrange ehr.refrange,
                   local_refrange ehr.refrange, verdict text, reason text, notes text[], mark text,
                   valid_until timestamptz)
    LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 10
    AS $$
        SELECT c.result, c.institution, c.collected_at, c.age, c.status, c.value, c.converted,
               c.refrange, c.local_refrange, c.verdict, c.reason, c.notes, c.mark, c.valid_until
          FROM ehr.recognition_candidates($1, ARRAY[$2], $3, $4) AS c
    $$;
REVOKE ALL ON FUNCTION ehr.recognizable_results(ehr.resident_id, text, ehr.org_code, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognizable_results(ehr.resident_id, text, ehr.org_code, timestamptz) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognizable_results(ehr.resident_id, text, ehr.org_code, timestamptz) IS
    'Every candidate result of the resident for one item with its verdict, reason, notes, age and value in the item''s unit; most recent first';

CREATE FUNCTION ehr.order_check(resident ehr.resident_id, items text[],
                                at_institution ehr.org_code DEFAULT NULL,
                                at timestamptz DEFAULT now())
    RETURNS TABLE (item text, item_name text, recognizable boolean, result bigint,
                   institution ehr.org_code, institution_name text, mark text,
                   collected_at timestamptz, age interval, value ehr.labvalue,
                   converted ehr.labvalue, notes text[], reason text, fee_saved numeric)
    LANGUAGE sql STABLE PARALLEL RESTRICTED ROWS 10
    AS $$
        -- One row per ordered item, in the order given: the most recent recognized
        -- result; failing that, the institution's own valid result (shown, never
        -- counted); failing that, the reason of the most recent candidate, or
        -- no_result. The C judgement picks the best per item and keeps the order.
        SELECT c.item, c.item_name, coalesce(c.verdict <> 'not_recognized', false),
               c.result, c.institution, c.institution_name, c.mark, c.collected_at, c.age,
               c.value, c.converted, c.notes,
               CASE WHEN c.verdict IS DISTINCT FROM 'recognized'
                     AND c.verdict IS DISTINCT FROM 'recognized_with_note' THEN c.reason END,
               CASE WHEN c.verdict <> 'not_recognized' THEN c.fee ELSE 0 END
          FROM ehr.recognition_candidates($1, $2, $3, $4, true) AS c
    $$;
REVOKE ALL ON FUNCTION ehr.order_check(ehr.resident_id, text[], ehr.org_code, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.order_check(ehr.resident_id, text[], ehr.org_code, timestamptz) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.order_check(ehr.resident_id, text[], ehr.org_code, timestamptz) IS
    'The pop-up while ordering: per ordered item, whether a recognizable result exists, the best one (most recent recognized), its institution, mark, notes and the fee saved';

-- ---------------------------------------------------------------------------
-- Recording decisions. A BEFORE INSERT trigger judges the result again as the
-- inserting role and fills in everything but the doctor's own words, so a
-- direct INSERT cannot record what ehr.recognize would refuse.

ALTER TABLE ehr.recognition ADD CONSTRAINT recognition_once_per_encounter UNIQUE (result, encounter);

CREATE FUNCTION ehr.recognition_judge(d ehr.recognition) RETURNS ehr.recognition
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    AS $$
DECLARE
    res record;
    enc record;
    c   record;
    known_reasons CONSTANT text[] := ARRAY['condition_changed', 'rapid_change', 'major_procedure',
        'emergency', 'appraisal', 'other', 'patient_request', 'qc_failed', 'too_old'];
BEGIN
    IF d.accepted IS NULL THEN
        RAISE EXCEPTION 'a recognition decision needs accepted true or false'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The doctor either uses the result (true) or orders the test again (false).';
    END IF;
    IF d.accepted AND d.reason IS NOT NULL THEN
        RAISE EXCEPTION 're-test reason "%" given for an accepted result %', d.reason, d.result
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A reason is recorded only when the result is refused and the test repeated.';
    END IF;
    IF NOT d.accepted AND d.reason IS NULL THEN
        RAISE EXCEPTION 'refusing result % needs a re-test reason', d.result
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The national measures allow a repeat test only for a stated reason: condition_changed, rapid_change, major_procedure, emergency, appraisal or other (with a note); regionally also patient_request, qc_failed, too_old.';
    END IF;
    IF NOT d.accepted AND NOT (d.reason = ANY (known_reasons)) THEN
        RAISE EXCEPTION 'unknown re-test reason "%"', d.reason
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The reason must be one of condition_changed, rapid_change, major_procedure, emergency, appraisal, other, patient_request, qc_failed, too_old.';
    END IF;
    IF d.reason = 'other' AND coalesce(btrim(d.note), '') = '' THEN
        RAISE EXCEPTION 're-test reason "other" needs a note'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'When none of the listed reasons applies the doctor writes down why the test is repeated.';
    END IF;

    -- Both rows are read as the caller: a result hidden by row-level security
    -- cannot be decided on.
    SELECT r.resident, r.item, r.institution INTO res
      FROM ehr.lab_result AS r WHERE r.id = d.result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lab result % does not exist or is not visible', d.result
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Only a result the caller may read can be recognized or refused.';
    END IF;
    SELECT e.resident, e.institution INTO enc
      FROM ehr.encounter AS e WHERE e.id = d.encounter;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'encounter % does not exist or is not visible', d.encounter
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A decision is recorded in an encounter of the recognizing institution.';
    END IF;
    IF enc.resident OPERATOR(ehr.<>) res.resident THEN
        RAISE EXCEPTION 'encounter % is not with the patient of result %', d.encounter, d.result
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The result and the encounter must belong to the same resident.';
    END IF;

    SELECT * INTO c
      FROM ehr.recognition_candidates(res.resident, ARRAY[res.item], enc.institution, now()) AS x
     WHERE x.result = d.result;
    IF c.verdict IS DISTINCT FROM 'recognized' AND c.verdict IS DISTINCT FROM 'recognized_with_note' THEN
        IF d.accepted THEN
            RAISE EXCEPTION 'result % is not recognizable at %: %', d.result, enc.institution, c.reason
                USING ERRCODE = 'check_violation',
                      DETAIL = pg_catalog.format('Only a recognized result may be accepted; this one is %s.', c.reason);
        ELSE
            RAISE EXCEPTION 'result % is not recognizable at %: %', d.result, enc.institution, c.reason
                USING ERRCODE = 'check_violation',
                      DETAIL = pg_catalog.format('Only a result offered for recognition is refused; this one is %s, so the test is simply ordered.', c.reason);
        END IF;
    END IF;

    d.resident    := res.resident;
    d.institution := enc.institution;
    d.source      := res.institution;
    d.item        := res.item;
    d.verdict     := c.verdict;
    d.notes       := c.notes;
    d.fee_saved   := CASE WHEN d.accepted THEN coalesce(c.fee, 0) ELSE 0 END;
    d.decided_by  := current_user;
    d.decided_at  := now();
    RETURN d;
END
$$;
REVOKE ALL ON FUNCTION ehr.recognition_judge(ehr.recognition) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_judge(ehr.recognition) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognition_judge(ehr.recognition) IS
    'Checks the reason, judges the result again as the caller and returns the decision with verdict, notes, fee and who/when filled in (the work of the recognition_decide trigger)';

-- The judged fields of a decision as one text, for the seal (below).
CREATE FUNCTION ehr.recognition_canonical(d ehr.recognition) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT pg_catalog.format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s',
                   d.result, d.encounter, d.accepted, pg_catalog.quote_nullable(d.reason),
                   pg_catalog.quote_nullable(d.note), d.resident, d.institution, d.source,
                   pg_catalog.quote_nullable(d.item), d.verdict, pg_catalog.quote_nullable(d.notes::text), d.fee_saved)
    $$;
REVOKE ALL ON FUNCTION ehr.recognition_canonical(ehr.recognition) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_canonical(ehr.recognition) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognition_canonical(ehr.recognition) IS
    'The judged fields of a recognition decision as one text: what the Citus seal covers';

-- Under Citus (docs/scale-out.md) the trigger runs on a shard, where it cannot query
-- the other tables: ehr.recognize judges on the coordinator as the caller and seals
-- the judgement (HMAC-SM3, SET LOCAL ehr.recognition_seal, forwarded to the workers);
-- the trigger on the shard accepts only a row whose judged fields carry that seal.
CREATE FUNCTION ehr.recognition_judge_sealed(result bigint, encounter bigint, accepted boolean,
                                             reason text, note text) RETURNS ehr.recognition
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'ehr_recognition_judge_sealed';
REVOKE ALL ON FUNCTION ehr.recognition_judge_sealed(bigint, bigint, boolean, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_judge_sealed(bigint, bigint, boolean, text, text) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognition_judge_sealed(bigint, bigint, boolean, text, text) IS
    'ehr.recognition_judge as the caller, and seal the judgement for the Citus shard that stores it (sets ehr.recognition_seal)';
CREATE FUNCTION ehr.recognition_seal_check(canonical text) RETURNS void
    LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'ehr_recognition_seal_check';
REVOKE ALL ON FUNCTION ehr.recognition_seal_check(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_seal_check(text) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognition_seal_check(text) IS
    'Raises unless ehr.recognition_seal is the seal of this judged decision (on a Citus shard)';

CREATE FUNCTION ehr.recognition_decide() RETURNS trigger
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    AS $$
BEGIN
    IF TG_TABLE_NAME OPERATOR(pg_catalog.<>) 'recognition' THEN
        -- a shard of ehr.recognition on a Citus worker: judged and sealed on the coordinator
        PERFORM ehr.recognition_seal_check(ehr.recognition_canonical(ROW(NEW.*)::ehr.recognition));
        NEW.decided_by := current_user;
        NEW.decided_at := now();
        RETURN NEW;
    END IF;
    RETURN ehr.recognition_judge(NEW);
END
$$;
REVOKE ALL ON FUNCTION ehr.recognition_decide() FROM PUBLIC;
COMMENT ON FUNCTION ehr.recognition_decide() IS
    'Trigger on ehr.recognition: checks the reason, judges the result again as the caller and fills in verdict, notes, fee and who/when';
CREATE TRIGGER recognition_decide BEFORE INSERT ON ehr.recognition
    FOR EACH ROW EXECUTE FUNCTION ehr.recognition_decide();
COMMENT ON TRIGGER recognition_decide ON ehr.recognition IS
    'Judges the result as the inserting role and fills in verdict, notes, fee and who/when';

-- Clinicians (directly or through a gateway) record decisions and read them;
-- only the columns the doctor chooses are insertable.
GRANT SELECT ON ehr.recognition TO ehr_clinician, ehr_gateway, ehr_admin;
-- resident too, which the trigger replaces by the result's resident (ehr.recognize
-- passes it so that Citus can route the INSERT)
-- Under Citus ehr.recognize inserts the sealed judgement, so every judged column is
-- insertable too; on one node the trigger overwrites them all with its own judgement,
-- on a shard it refuses any that the seal does not cover.
GRANT INSERT (result, encounter, accepted, reason, note, resident, institution, source, item,
              verdict, notes, fee_saved) ON ehr.recognition TO ehr_clinician, ehr_gateway;

CREATE FUNCTION ehr.recognize(result bigint, encounter bigint, accepted boolean,
                              reason text DEFAULT NULL, note text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    AS $$
DECLARE
    rid ehr.resident_id;
    new_id bigint;
    j   ehr.recognition;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        -- Citus: judge here as the caller and seal it; the shard's trigger checks the seal
        j := ehr.recognition_judge_sealed(recognize.result, recognize.encounter, recognize.accepted,
                                          recognize.reason, recognize.note);
        INSERT INTO ehr.recognition (result, encounter, accepted, reason, note, resident, institution,
                                     source, item, verdict, notes, fee_saved)
        VALUES (j.result, j.encounter, j.accepted, j.reason, j.note, j.resident, j.institution,
                j.source, j.item, j.verdict, j.notes, j.fee_saved)
        RETURNING recognition.id INTO new_id;
        RETURN new_id;
    END IF;
    -- The resident goes into the INSERT itself (the trigger checks and overwrites
    -- it): Citus routes an INSERT by its distribution column before any trigger
    -- runs (docs/scale-out.md). Read as the caller, like the trigger's reads.
    SELECT e.resident INTO rid FROM ehr.encounter AS e WHERE e.id OPERATOR(pg_catalog.=) recognize.encounter;
    INSERT INTO ehr.recognition (result, encounter, accepted, reason, note, resident)
    VALUES (recognize.result, recognize.encounter, recognize.accepted, recognize.reason, recognize.note, rid)
    RETURNING recognition.id INTO new_id;
    RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION ehr.recognize(bigint, bigint, boolean, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognize(bigint, bigint, boolean, text, text) TO ehr_clinician, ehr_gateway, ehr_admin;
COMMENT ON FUNCTION ehr.recognize(bigint, bigint, boolean, text, text) IS
    'Record the doctor''s decision on a recognizable result in an encounter: accepted, or refused with a re-test reason (other needs a note); returns the decision id';

-- Statistics are aggregates without residents: the definer counts every
-- decision, the caller chooses the institution and period.
CREATE FUNCTION ehr.recognition_stats(institution ehr.org_code DEFAULT NULL,
                                      period tstzrange DEFAULT NULL)
    RETURNS TABLE (institution ehr.org_code, institution_name text, item text, item_name text,
                   offered bigint, accepted bigint, refused bigint, refused_by_reason jsonb,
                   acceptance_rate numeric, fees_saved numeric)
    LANGUAGE sql STABLE PARALLEL SAFE
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
        -- One pass over the decisions (grouped by reason as well), then a
        -- small second aggregation per institution and item.
        WITH g AS (
            SELECT r.institution, r.item, r.accepted, r.reason,
                   pg_catalog.count(*) AS n, pg_catalog.sum(r.fee_saved) AS fees
              FROM ehr.recognition AS r
             WHERE ($1 IS NULL OR r.institution OPERATOR(ehr.=) $1)
               AND ($2 IS NULL OR r.decided_at OPERATOR(pg_catalog.<@) $2)
             GROUP BY r.institution, r.item, r.accepted, r.reason
        ), s AS (
            SELECT g.institution, g.item,
                   pg_catalog.sum(g.n)::bigint AS offered,
                   coalesce(pg_catalog.sum(g.n) FILTER (WHERE g.accepted), 0)::bigint AS accepted,
                   coalesce(pg_catalog.sum(g.n) FILTER (WHERE NOT g.accepted), 0)::bigint AS refused,
                   coalesce(pg_catalog.jsonb_object_agg(g.reason, g.n) FILTER (WHERE NOT g.accepted),
                            '{}'::jsonb) AS refused_by_reason,
                   pg_catalog.sum(g.fees) AS fees_saved
              FROM g
             GROUP BY g.institution, g.item
        )
        SELECT s.institution, n.name, s.item, i.name, s.offered, s.accepted, s.refused,
               s.refused_by_reason,
               pg_catalog.round(s.accepted::numeric OPERATOR(pg_catalog./) s.offered::numeric, 4),
               s.fees_saved
          FROM s
          LEFT JOIN ehr.lab_item AS i ON i.code OPERATOR(pg_catalog.=) s.item
          LEFT JOIN ehr.institution AS n ON n.org OPERATOR(ehr.=) s.institution
         ORDER BY s.institution, s.item
    $$;
COMMENT ON FUNCTION ehr.recognition_stats(ehr.org_code, tstzrange) IS
    'Per recognizing institution and item: decisions offered, accepted, refused (by reason), acceptance rate and fees saved (CNY), over an optional period';
REVOKE ALL ON FUNCTION ehr.recognition_stats(ehr.org_code, tstzrange) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ehr.recognition_stats(ehr.org_code, tstzrange) TO ehr_admin, ehr_analyst, ehr_clinician;
