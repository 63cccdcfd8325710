{#-
    Child × item × evidence: the facts that make an item true for a child in scope, after the
    item's level and look-back (item_catalogue). C and M: the child's own records (M facts are
    keyed to the child's 妊産婦 row); H: any member of the child's household, the child included,
    and records keyed to the household's 世帯番号; O: the other members only.
-#}
with

children as (

    select * from {{ ref('int_items__children') }}

),

members as (

    select * from {{ ref('int_items__household_members') }}

),

facts as (

    select * from {{ ref('int_items__facts') }}

),

catalogue as (

    select * from {{ ref('item_catalogue') }}
    where is_enabled

),

corrections as (

    select * from {{ ref('int_items__corrections') }}

),

{#-
    How a fact reaches a child (via): 'own', the child's own record; 'member', a record of a household
    member (the child included: is_self); 'household', a record keyed only to a member's 世帯番号 (no
    person on the row), which is never the child's own.
-#}
fact_keys as (

    select person_id, 'own' as via, false as is_self, person_id as owner_key
    from children
    union all
    select person_id, 'member', is_self, member_person_id
    from members
    union all
    select distinct person_id, 'household', false, member_household_id
    from members

),

reached as (

    select
        fact_keys.person_id,
        fact_keys.via,
        fact_keys.is_self,
        catalogue.level,
        facts.item_code,
        facts.person_id as via_person_id,
        facts.raw_table,
        facts.record_id,
        facts.detail,
        facts.event_date,
        facts.valid_from,
        facts.valid_through
    from fact_keys
    inner join facts
        on fact_keys.owner_key = coalesce(facts.person_id, facts.household_id)
        and (fact_keys.via = 'household') = (facts.person_id is null)
    inner join catalogue
        on facts.item_code = catalogue.item_code

),

{#- C and M: the child's own records. -#}
own as (

    select * from reached
    where via = 'own'
        and level in ('C', 'M')

),

{#- H: any member's or the household's records; O: the other members' (is_self false). -#}
household as (

    select distinct * from reached
    where via != 'own'
        and (level = 'H' or (level = 'O' and not is_self))

),

unioned as (

    select * from own
    union all
    select * from household

),

final as (

    select
        unioned.person_id,
        unioned.item_code,
        unioned.via_person_id,
        unioned.raw_table,
        unioned.record_id,
        unioned.detail,
        unioned.event_date,
        children.as_of_date,
        children.run_month
    from unioned
    inner join catalogue
        on unioned.item_code = catalogue.item_code
    inner join children
        on unioned.person_id = children.person_id
    where {{ within_lookback(
        'catalogue.lookback', 'unioned.event_date', 'unioned.valid_from', 'unioned.valid_through', 'children.as_of_date'
    ) }}
        and not exists (
            select 1
            from corrections
            where corrections.person_id = unioned.person_id
                and corrections.record_id = unioned.record_id
                and (corrections.kind = 'wrong_person' or corrections.item_code = unioned.item_code)
        )

)

select * from final
