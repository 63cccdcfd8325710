{#-
    One row per non-spine record of the run month: the resident it is linked to (or not), how,
    with what score and why (domain.md §3). Precedence: a manual 'same' decision; a checked
    宛名番号; the probabilistic matcher (stage 1 学齢簿, stage 2 other school files); a row with only a
    世帯番号 attaches to that household. No chaining: at most one resident per record; at most
    identity_group_limits.max_records_per_person probabilistic links per resident and school file
    (the weakest beyond it go to review).
-#}
with

records as (

    select * from {{ ref('int_identity__records') }}

),

checks as (

    select * from {{ ref('int_identity__atena_checks') }}

),

decisions as (

    select * from {{ ref('int_identity__decisions') }}
    where decision in ('same', 'not_in_town')

),

spine as (

    select * from {{ ref('int_identity__spine') }}

),

register_pairs as (

    select * from {{ ref('int_identity__register_pairs') }}

),

school_pairs as (

    select * from {{ ref('int_identity__school_pairs') }}

),

group_limits as (

    select * from {{ ref('identity_group_limits') }}

),

households as (

    select distinct household_id from spine

),

{#- The latest decision about the record as a whole: 'same' (a resident on the spine) or 'not_in_town'. -#}
manual as (

    select distinct on (decisions.record_key)
        decisions.record_key,
        decisions.decision,
        case when decisions.decision = 'same' then decisions.person_id end as person_id,
        decisions.decided_by
    from decisions
    left join spine
        on decisions.person_id = spine.person_id
    where decisions.decision = 'not_in_town' or spine.person_id is not null
    order by decisions.record_key asc, decisions.decided_at desc

),

register_resolved as (

    {{ identity_resolve_pairs(
        'register_pairs', var('identity_link_threshold'), var('identity_review_threshold'), var('identity_tie_margin')
    ) }}

),

school_resolved as (

    {{ identity_resolve_pairs(
        'school_pairs', var('identity_link_threshold'), var('identity_review_threshold'), var('identity_tie_margin')
    ) }}

),

resolved as (

    select * from register_resolved
    union all
    select * from school_resolved

),

assembled as (

    select
        records.record_id,
        records.record_key,
        records.raw_table,
        records.source_file,
        records.claimed_atena_no,
        case
            when manual.decision = 'same' then manual.person_id
            when manual.decision is not null then null
            when checks.has_passed then checks.person_id
            when resolved.link_status = 'linked' then resolved.right_id
        end as person_id,
        case
            when manual.decision = 'same' or (manual.decision is null and checks.has_passed) then 'linked'
            when manual.decision = 'not_in_town' then 'unmatched'
            when records.match_stage > 0 then coalesce(resolved.link_status, 'unmatched')
            when records.claimed_atena_no is null and records.claimed_setai_no is not null
                then case when households.household_id is not null then 'linked' else 'unmatched' end
            else 'unmatched'
        end as link_status,
        case
            when manual.decision is not null then 'manual'
            when checks.has_passed then 'atena_no'
            when records.match_stage > 0 then 'probabilistic'
            when records.claimed_atena_no is null and records.claimed_setai_no is not null then 'setai_no'
            else 'atena_no'
        end as link_method,
        case
            when manual.decision = 'same' then 'manual decision (' || manual.decided_by || ')'
            when manual.decision = 'not_in_town' then 'not in town (manual decision, ' || manual.decided_by || ')'
            when checks.has_passed then checks.check_reason
            when records.match_stage > 0
                then concat_ws('; ',
                    case
                        when checks.record_id is not null then 'atena_no check failed (' || checks.check_reason || ')'
                    end,
                    coalesce(resolved.match_reason, 'no candidate'))
            when records.claimed_atena_no is null and records.claimed_setai_no is not null
                then case when households.household_id is not null then 'setai_no' else 'setai_no not on spine' end
            when checks.is_on_spine then checks.check_reason
            else 'atena_no not on spine'
        end as match_reason,
        case
            when manual.decision is null and not coalesce(checks.has_passed, false) then resolved.match_score
        end as match_score,
        case
            when manual.decision is null and not coalesce(checks.has_passed, false) then resolved.runner_up_score
        end as runner_up_score,
        case when records.claimed_atena_no is null then households.household_id end as claimed_household_id,
        records.source_row_number
    from records
    left join manual
        on records.record_key = manual.record_key
    left join checks
        on records.record_id = checks.record_id
    left join resolved
        on records.record_id = resolved.left_id
    left join households
        on records.claimed_setai_no = households.household_id

),

guarded as (

    select
        assembled.*,
        group_limits.max_records_per_person,
        row_number() over (
            partition by assembled.raw_table, assembled.person_id
            order by
                case assembled.link_method when 'manual' then 0 when 'atena_no' then 1 else 2 end,
                assembled.match_score desc nulls first,
                assembled.record_id asc
        ) as rank_for_person
    from assembled
    left join group_limits
        on assembled.raw_table = group_limits.raw_table

),

final as (

    select
        guarded.record_id,
        guarded.record_key,
        guarded.raw_table,
        guarded.source_file,
        guarded.claimed_atena_no,
        case when guarded.is_over_limit then null else guarded.person_id end as person_id,
        coalesce(spine.household_id, guarded.claimed_household_id) as household_id,
        case when guarded.is_over_limit then 'review' else guarded.link_status end as link_status,
        guarded.link_method,
        guarded.match_reason || case when guarded.is_over_limit then '; group_limit' else '' end as match_reason,
        guarded.match_score,
        guarded.runner_up_score,
        guarded.source_row_number
    from (
        select
            guarded.*,
            guarded.person_id is not null
                and guarded.link_method = 'probabilistic'
                and guarded.rank_for_person > coalesce(guarded.max_records_per_person, 2147483647) as is_over_limit
        from guarded
    ) as guarded
    left join spine
        on guarded.person_id = spine.person_id
        and not guarded.is_over_limit

)

select * from final
