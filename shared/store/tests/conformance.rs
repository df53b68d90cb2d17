//! One behaviour, two backends: every test here runs against the embedded SQLite
//! store and against DynamoDB on a real moto server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use partner_store::limits::Limit;
use partner_store::testing;
use partner_store::{
    Condition, Index, Item, Key, Query, SortKey, Store, StoreError, Update, WriteOp,
};
use serde_json::{Value, json};

fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn put(value: Value) -> WriteOp {
    WriteOp::Put {
        item: item(value),
        condition: None,
    }
}

fn put_new(value: Value) -> WriteOp {
    WriteOp::Put {
        item: item(value),
        condition: Some(Condition::NotExists),
    }
}

fn sk_list(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["sk"].as_str().unwrap().to_owned())
        .collect()
}

async fn put_then_get_returns_the_same_item(store: Store) {
    let written = json!({"pk": "P", "sk": "S", "name": "Jane", "count": 3, "big": 9007199254740993i64,
        "flag": true, "tags": ["a", "b"], "nested": {"x": 1}, "absent": null});
    store.write(put(written.clone())).await.unwrap();
    let read = store.get(&Key::new("P", "S"), true).await.unwrap().unwrap();
    assert_eq!(Value::Object(read), written);
}

async fn get_of_a_missing_item_is_none(store: Store) {
    assert_eq!(
        store.get(&Key::new("nope", "nope"), true).await.unwrap(),
        None
    );
}

async fn get_many_returns_items_in_key_order_with_gaps(store: Store) {
    store
        .write(put(json!({"pk": "A", "sk": "S", "v": 1})))
        .await
        .unwrap();
    store
        .write(put(json!({"pk": "C", "sk": "S", "v": 3})))
        .await
        .unwrap();
    let before = store.calls();
    let keys = [Key::new("C", "S"), Key::new("B", "S"), Key::new("A", "S")];
    let items = store.get_many(&keys, true).await.unwrap();
    let values: Vec<Option<i64>> = items
        .iter()
        .map(|i| i.as_ref().map(|i| i["v"].as_i64().unwrap()))
        .collect();
    assert_eq!(values, [Some(3), None, Some(1)]);
    assert_eq!(store.calls().since(before).total(), 1);
}

async fn not_exists_condition_lets_only_the_first_put_in(store: Store) {
    store
        .write(put_new(json!({"pk": "P", "sk": "S", "v": 1})))
        .await
        .unwrap();
    let second = store
        .write(put_new(json!({"pk": "P", "sk": "S", "v": 2})))
        .await;
    assert!(
        matches!(second, Err(StoreError::ConditionFailed { index: 0 })),
        "{second:?}"
    );
    let stored = store.get(&Key::new("P", "S"), true).await.unwrap().unwrap();
    assert_eq!(stored["v"], 1);
}

async fn equals_condition_compares_the_stored_attribute(store: Store) {
    store
        .write(put(json!({"pk": "P", "sk": "S", "status": "pending"})))
        .await
        .unwrap();
    let wrong = WriteOp::Put {
        item: item(json!({"pk": "P", "sk": "S", "status": "approved"})),
        condition: Some(Condition::Equals("status", json!("rejected"))),
    };
    assert!(matches!(
        store.write(wrong).await,
        Err(StoreError::ConditionFailed { .. })
    ));
    let right = WriteOp::Put {
        item: item(json!({"pk": "P", "sk": "S", "status": "approved"})),
        condition: Some(Condition::Equals("status", json!("pending"))),
    };
    store.write(right).await.unwrap();
    let missing = WriteOp::Delete {
        key: Key::new("other", "S"),
        condition: Some(Condition::Equals("status", json!("pending"))),
    };
    assert!(matches!(
        store.write(missing).await,
        Err(StoreError::ConditionFailed { .. })
    ));
}

/// A counter guarding a limit: a missing item or attribute counts as 0, and the
/// guarded increment stops at the limit, alone and inside a transaction.
async fn below_condition_guards_a_counter(store: Store) {
    let bump = |condition| {
        let mut update = Update::default();
        update.add.push(("open", 1));
        WriteOp::Update {
            key: Key::new("P", "COUNT"),
            update,
            condition: Some(condition),
        }
    };
    // No item yet: 0 is below 2.
    store
        .write(bump(Condition::Below("open", 2)))
        .await
        .unwrap();
    store
        .transact(vec![
            put(json!({"pk": "P", "sk": "OTHER"})),
            bump(Condition::Below("open", 2)),
        ])
        .await
        .unwrap();
    assert!(matches!(
        store.write(bump(Condition::Below("open", 2))).await,
        Err(StoreError::ConditionFailed { .. })
    ));
    assert!(matches!(
        store
            .transact(vec![
                put(json!({"pk": "P", "sk": "THIRD"})),
                bump(Condition::Below("open", 2)),
            ])
            .await,
        Err(StoreError::ConditionFailed { index: 1 })
    ));
    assert!(
        store
            .get(&Key::new("P", "THIRD"), true)
            .await
            .unwrap()
            .is_none()
    );
    let stored = store
        .get(&Key::new("P", "COUNT"), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored["open"], json!(2));
    // A limit of 0 holds nothing, even where nothing is stored.
    let mut update = Update::default();
    update.add.push(("open", 1));
    let none = WriteOp::Update {
        key: Key::new("Q", "COUNT"),
        update,
        condition: Some(Condition::Below("open", 0)),
    };
    assert!(matches!(
        store.write(none).await,
        Err(StoreError::ConditionFailed { .. })
    ));
}

async fn update_sets_removes_and_adds_and_returns_the_new_item(store: Store) {
    store
        .write(put(
            json!({"pk": "P", "sk": "S", "a": "x", "b": "y", "n": 5}),
        ))
        .await
        .unwrap();
    let mut update = Update::default();
    update.set.insert("a".into(), json!("z"));
    update.remove.push("b");
    update.add.push(("n", -2));
    update.add.push(("fresh", 7));
    let after = store
        .write(WriteOp::Update {
            key: Key::new("P", "S"),
            update,
            condition: Some(Condition::Exists),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Value::Object(after.clone()),
        json!({"pk": "P", "sk": "S", "a": "z", "n": 3, "fresh": 7})
    );
    let stored = store.get(&Key::new("P", "S"), true).await.unwrap().unwrap();
    assert_eq!(stored, after);
}

async fn update_with_a_failed_condition_changes_nothing(store: Store) {
    let mut update = Update::default();
    update.add.push(("n", 1));
    let result = store
        .write(WriteOp::Update {
            key: Key::new("P", "S"),
            update,
            condition: Some(Condition::Exists),
        })
        .await;
    assert!(matches!(
        result,
        Err(StoreError::ConditionFailed { index: 0 })
    ));
    assert_eq!(store.get(&Key::new("P", "S"), true).await.unwrap(), None);
}

async fn delete_removes_the_item(store: Store) {
    store
        .write(put(json!({"pk": "P", "sk": "S"})))
        .await
        .unwrap();
    store
        .write(WriteOp::Delete {
            key: Key::new("P", "S"),
            condition: Some(Condition::Exists),
        })
        .await
        .unwrap();
    assert_eq!(store.get(&Key::new("P", "S"), true).await.unwrap(), None);
}

async fn a_transaction_with_one_failing_condition_writes_nothing(store: Store) {
    store
        .write(put(json!({"pk": "TAKEN", "sk": "S"})))
        .await
        .unwrap();
    let result = store
        .transact(vec![
            put_new(json!({"pk": "A", "sk": "S"})),
            put_new(json!({"pk": "TAKEN", "sk": "S"})),
            put_new(json!({"pk": "B", "sk": "S"})),
        ])
        .await;
    assert!(
        matches!(result, Err(StoreError::ConditionFailed { index: 1 })),
        "{result:?}"
    );
    assert_eq!(store.get(&Key::new("A", "S"), true).await.unwrap(), None);
    assert_eq!(store.get(&Key::new("B", "S"), true).await.unwrap(), None);
}

async fn a_transaction_applies_every_write(store: Store) {
    store
        .write(put(json!({"pk": "GATE", "sk": "S", "open": true})))
        .await
        .unwrap();
    store
        .write(put(json!({"pk": "OLD", "sk": "S"})))
        .await
        .unwrap();
    let mut update = Update::default();
    update.add.push(("hits", 1));
    store
        .transact(vec![
            WriteOp::Check {
                key: Key::new("GATE", "S"),
                condition: Condition::Equals("open", json!(true)),
            },
            put_new(json!({"pk": "NEW", "sk": "S"})),
            WriteOp::Update {
                key: Key::new("COUNTER", "S"),
                update,
                condition: None,
            },
            WriteOp::Delete {
                key: Key::new("OLD", "S"),
                condition: Some(Condition::Exists),
            },
        ])
        .await
        .unwrap();
    assert!(
        store
            .get(&Key::new("NEW", "S"), true)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .get(&Key::new("COUNTER", "S"), true)
            .await
            .unwrap()
            .unwrap()["hits"],
        1
    );
    assert_eq!(store.get(&Key::new("OLD", "S"), true).await.unwrap(), None);
}

async fn a_failed_condition_check_cancels_the_transaction(store: Store) {
    store
        .write(put(json!({"pk": "GATE", "sk": "S", "open": false})))
        .await
        .unwrap();
    let result = store
        .transact(vec![
            WriteOp::Check {
                key: Key::new("GATE", "S"),
                condition: Condition::Equals("open", json!(true)),
            },
            put_new(json!({"pk": "NEW", "sk": "S"})),
        ])
        .await;
    assert!(
        matches!(result, Err(StoreError::ConditionFailed { index: 0 })),
        "{result:?}"
    );
    assert_eq!(store.get(&Key::new("NEW", "S"), true).await.unwrap(), None);
}

async fn a_transaction_touching_one_item_twice_is_refused(store: Store) {
    let result = store
        .transact(vec![
            put(json!({"pk": "A", "sk": "S"})),
            put(json!({"pk": "A", "sk": "S", "v": 2})),
        ])
        .await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
}

async fn queries_filter_by_sort_key_and_order_both_ways(store: Store) {
    for sk in ["A#1", "A#2", "A#3", "B#1", "C#1"] {
        store
            .write(put(json!({"pk": "P", "sk": sk})))
            .await
            .unwrap();
    }
    store
        .write(put(json!({"pk": "OTHER", "sk": "A#9"})))
        .await
        .unwrap();
    let mut query = Query::partition(Index::Primary, "P");
    query.sort = SortKey::BeginsWith("A#".into());
    assert_eq!(
        sk_list(&store.query(&query).await.unwrap().items),
        ["A#1", "A#2", "A#3"]
    );
    query.descending = true;
    assert_eq!(
        sk_list(&store.query(&query).await.unwrap().items),
        ["A#3", "A#2", "A#1"]
    );
    let mut between = Query::partition(Index::Primary, "P");
    between.sort = SortKey::Between("A#2".into(), "B#1".into());
    assert_eq!(
        sk_list(&store.query(&between).await.unwrap().items),
        ["A#2", "A#3", "B#1"]
    );
}

async fn paging_with_cursors_returns_every_item_once_in_order(store: Store) {
    for n in 0..7 {
        store
            .write(put(json!({"pk": format!("ITEM#{n}"), "sk": "X", "gsi1pk": "LIST", "gsi1sk": format!("{n:03}")})))
            .await
            .unwrap();
        store
            .write(put(json!({"pk": "P", "sk": format!("{n:03}")})))
            .await
            .unwrap();
    }
    for (index, descending) in [
        (Index::Gsi1, false),
        (Index::Gsi1, true),
        (Index::Primary, false),
    ] {
        let partition = if index == Index::Primary { "P" } else { "LIST" };
        let mut query = Query::partition(index, partition);
        query.limit = 3;
        query.descending = descending;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.query(&query).await.unwrap();
            pages += 1;
            assert!(page.items.len() <= 3);
            for item in &page.items {
                let key = if index == Index::Primary {
                    "sk"
                } else {
                    "gsi1sk"
                };
                seen.push(item[key].as_str().unwrap().to_owned());
            }
            match page.cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        let mut expected: Vec<String> = (0..7).map(|n| format!("{n:03}")).collect();
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{index:?} descending={descending}");
    }
}

async fn a_cursor_from_another_partition_or_tampered_is_refused(store: Store) {
    for n in 0..3 {
        store
            .write(put(json!({"pk": "MINE", "sk": format!("{n}")})))
            .await
            .unwrap();
        store
            .write(put(json!({"pk": "THEIRS", "sk": format!("{n}")})))
            .await
            .unwrap();
    }
    let mut mine = Query::partition(Index::Primary, "MINE");
    mine.limit = 1;
    let cursor = store.query(&mine).await.unwrap().cursor.unwrap();
    let mut theirs = Query::partition(Index::Primary, "THEIRS");
    theirs.cursor = Some(cursor.clone());
    assert!(matches!(
        store.query(&theirs).await,
        Err(StoreError::InvalidCursor)
    ));
    let mut on_gsi = Query::partition(Index::Gsi1, "MINE");
    on_gsi.cursor = Some(cursor.clone());
    assert!(matches!(
        store.query(&on_gsi).await,
        Err(StoreError::InvalidCursor)
    ));
    let mut tampered = mine.clone();
    tampered.cursor = Some(format!("{cursor}x"));
    assert!(matches!(
        store.query(&tampered).await,
        Err(StoreError::InvalidCursor)
    ));
    tampered.cursor = Some("not-base64!".into());
    assert!(matches!(
        store.query(&tampered).await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn only_items_with_both_index_keys_appear_in_an_index(store: Store) {
    store
        .write(put(
            json!({"pk": "A", "sk": "S", "gsi2pk": "L", "gsi2sk": "1"}),
        ))
        .await
        .unwrap();
    store
        .write(put(json!({"pk": "B", "sk": "S", "gsi2pk": "L"})))
        .await
        .unwrap();
    store
        .write(put(json!({"pk": "C", "sk": "S"})))
        .await
        .unwrap();
    let page = store
        .query(&Query::partition(Index::Gsi2, "L"))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0]["pk"], "A");
}

async fn updating_index_keys_moves_an_item_between_index_partitions(store: Store) {
    store
        .write(put(
            json!({"pk": "A", "sk": "S", "gsi1pk": "PENDING", "gsi1sk": "1"}),
        ))
        .await
        .unwrap();
    let mut update = Update::default();
    update.set.insert("gsi1pk".into(), json!("APPROVED"));
    store
        .write(WriteOp::Update {
            key: Key::new("A", "S"),
            update,
            condition: None,
        })
        .await
        .unwrap();
    assert!(
        store
            .query(&Query::partition(Index::Gsi1, "PENDING"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .query(&Query::partition(Index::Gsi1, "APPROVED"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn concurrent_conditional_puts_let_exactly_one_win(store: Store) {
    let attempts = (0..10).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .transact(vec![
                    put_new(json!({"pk": "MARKER", "sk": "S", "n": n})),
                    put_new(json!({"pk": format!("E#{n}"), "sk": "S"})),
                ])
                .await
        })
    });
    let mut wins = 0;
    let mut losses = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed { index: 0 }) => losses += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((wins, losses), (1, 9));
}

async fn every_call_is_counted_by_kind(store: Store) {
    let before = store.calls();
    store
        .write(put(json!({"pk": "P", "sk": "S"})))
        .await
        .unwrap();
    store.get(&Key::new("P", "S"), false).await.unwrap();
    store
        .query(&Query::partition(Index::Primary, "P"))
        .await
        .unwrap();
    store
        .transact(vec![put(json!({"pk": "Q", "sk": "S"}))])
        .await
        .unwrap();
    let delta = store.calls().since(before);
    assert_eq!(
        (delta.writes, delta.gets, delta.queries, delta.transactions),
        (1, 1, 1, 1)
    );
    assert_eq!(delta.total(), 4);
}

fn big(pk: &str, sk: &str, bytes: usize) -> WriteOp {
    put(json!({"pk": pk, "sk": sk, "blob": "x".repeat(bytes)}))
}

async fn a_transaction_of_101_operations_is_refused_and_100_pass(store: Store) {
    let ops = |n: usize| -> Vec<WriteOp> {
        (0..n)
            .map(|i| put(json!({"pk": "T", "sk": format!("{i:03}")})))
            .collect()
    };
    let before = store.calls();
    match store.transact(ops(101)).await {
        Err(StoreError::LimitExceeded(Limit::TransactionOperations(101))) => {}
        other => panic!("101 operations: {other:?}"),
    }
    assert_eq!(
        store.calls().since(before).total(),
        0,
        "a refused request is never sent"
    );
    assert!(
        store
            .query(&Query::partition(Index::Primary, "T"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    store.transact(ops(100)).await.unwrap();
}

async fn an_item_over_400_kb_is_refused(store: Store) {
    for op in [big("I", "S", 401 * 1024), big("I", "S", 400 * 1024)] {
        match store.write(op.clone()).await {
            Err(StoreError::LimitExceeded(Limit::ItemBytes(_))) => {}
            other => panic!("a put over 400 KB: {other:?}"),
        }
        match store.transact(vec![op]).await {
            Err(StoreError::LimitExceeded(Limit::ItemBytes(_))) => {}
            other => panic!("a transaction with an item over 400 KB: {other:?}"),
        }
    }
    store.write(big("I", "S", 300 * 1024)).await.unwrap();
}

async fn a_transaction_over_4_mb_is_refused(store: Store) {
    let ops: Vec<WriteOp> = (0..11)
        .map(|i| big("M", &format!("{i:02}"), 390 * 1024))
        .collect();
    match store.transact(ops).await {
        Err(StoreError::LimitExceeded(Limit::TransactionBytes(_))) => {}
        other => panic!("a 4.2 MB transaction: {other:?}"),
    }
}

async fn a_batch_read_of_101_keys_is_refused(store: Store) {
    let keys: Vec<Key> = (0..101).map(|i| Key::new("B", format!("{i}"))).collect();
    match store.get_many(&keys, false).await {
        Err(StoreError::LimitExceeded(Limit::BatchGetKeys(101))) => {}
        other => panic!("101 keys: {other:?}"),
    }
    assert_eq!(
        store.get_many(&keys[..100], false).await.unwrap().len(),
        100
    );
}

async fn a_query_page_reads_at_most_about_1_mb(store: Store) {
    for i in 0..5 {
        store
            .write(big("Q", &format!("{i}"), 300 * 1024))
            .await
            .unwrap();
    }
    let mut query = Query::partition(Index::Primary, "Q");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.query(&query).await.unwrap();
        pages += 1;
        let bytes: usize = page
            .items
            .iter()
            .map(partner_store::limits::item_size)
            .sum();
        assert!(
            bytes <= partner_store::limits::MAX_QUERY_PAGE_BYTES + 301 * 1024,
            "a page of {bytes} bytes"
        );
        seen.extend(sk_list(&page.items));
        match page.cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["0", "1", "2", "3", "4"]);
    assert!(pages >= 2, "1.5 MB came in one page");
}

/// A listing spread over partitions (`keys::Listing`) with 40 items, 5 of them
/// written before it was spread (in its first partition, whatever their id), read
/// a page of 3 at a time both ways: every item once, in sort-key order; the pages
/// are one query per partition.
async fn a_listing_over_partitions_pages_every_item_once_in_order(store: Store) {
    let app = partner_domain::AppId::generate();
    let listing = partner_store::keys::audit_log_of_app(&app);
    let mut ids: Vec<String> = Vec::new();
    for n in 0..40u32 {
        // Ids end in every character, so every partition takes some.
        let id = format!("aud_{n:03}{}", char::from(b'A' + (n % 26) as u8));
        let partition = if n % 8 == 0 {
            listing.partitions()[0].clone()
        } else {
            listing.partition_of(&id)
        };
        store
            .write(put(json!({"pk": format!("AUDIT#{id}"), "sk": "AUDIT", "gsi1pk": partition, "gsi1sk": id})))
            .await
            .unwrap();
        ids.push(id);
    }
    let used: std::collections::HashSet<String> =
        ids.iter().map(|id| listing.partition_of(id)).collect();
    assert_eq!(used.len(), listing.partitions().len());
    for descending in [false, true] {
        let mut query = Query::partition(Index::Gsi1, "");
        query.limit = 3;
        query.descending = descending;
        let mut seen = Vec::new();
        loop {
            let before = store.calls();
            let page = store.query_listing(&query, &listing).await.unwrap();
            let calls = store.calls().since(before);
            assert!(calls.queries <= listing.partitions().len() as u64);
            assert!(page.items.len() <= 3);
            seen.extend(
                page.items
                    .iter()
                    .map(|i| i["gsi1sk"].as_str().unwrap().to_owned()),
            );
            match page.cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
            assert!(seen.len() <= 40, "pagination does not end");
        }
        let mut expected = ids.clone();
        expected.sort();
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "descending={descending}");
    }
}

/// A listing's cursor continues only the listing it came from: another app's, or
/// a tampered one, is refused.
async fn a_listing_cursor_from_another_app_or_tampered_is_refused(store: Store) {
    let (mine, theirs) = (
        partner_domain::AppId::generate(),
        partner_domain::AppId::generate(),
    );
    for app in [&mine, &theirs] {
        let listing = partner_store::keys::audit_log_of_app(app);
        for n in 0..8 {
            let id = format!("aud_{n}{n}");
            store
                .write(put(json!({"pk": format!("{app}#{id}"), "sk": "AUDIT", "gsi1pk": listing.partition_of(&id), "gsi1sk": id})))
                .await
                .unwrap();
        }
    }
    let mut query = Query::partition(Index::Gsi1, "");
    query.limit = 2;
    let mine = partner_store::keys::audit_log_of_app(&mine);
    let cursor = store
        .query_listing(&query, &mine)
        .await
        .unwrap()
        .cursor
        .unwrap();
    query.cursor = Some(cursor.clone());
    assert!(matches!(
        store
            .query_listing(&query, &partner_store::keys::audit_log_of_app(&theirs))
            .await,
        Err(StoreError::InvalidCursor)
    ));
    for tampered in [format!("{cursor}x"), "not-base64!".into(), "e30".into()] {
        query.cursor = Some(tampered);
        assert!(matches!(
            store.query_listing(&query, &mine).await,
            Err(StoreError::InvalidCursor)
        ));
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(partner_store::testing::memory()).await } )*
        }
        mod dynamodb {
            $( #[tokio::test] async fn $name() { super::$name(partner_store::testing::moto().await).await } )*
        }
    };
}

conformance!(
    put_then_get_returns_the_same_item,
    get_of_a_missing_item_is_none,
    get_many_returns_items_in_key_order_with_gaps,
    not_exists_condition_lets_only_the_first_put_in,
    equals_condition_compares_the_stored_attribute,
    below_condition_guards_a_counter,
    update_sets_removes_and_adds_and_returns_the_new_item,
    update_with_a_failed_condition_changes_nothing,
    delete_removes_the_item,
    a_transaction_with_one_failing_condition_writes_nothing,
    a_transaction_applies_every_write,
    a_failed_condition_check_cancels_the_transaction,
    a_transaction_touching_one_item_twice_is_refused,
    queries_filter_by_sort_key_and_order_both_ways,
    paging_with_cursors_returns_every_item_once_in_order,
    a_cursor_from_another_partition_or_tampered_is_refused,
    a_listing_over_partitions_pages_every_item_once_in_order,
    a_listing_cursor_from_another_app_or_tampered_is_refused,
    only_items_with_both_index_keys_appear_in_an_index,
    updating_index_keys_moves_an_item_between_index_partitions,
    concurrent_conditional_puts_let_exactly_one_win,
    every_call_is_counted_by_kind,
    a_transaction_of_101_operations_is_refused_and_100_pass,
    an_item_over_400_kb_is_refused,
    a_transaction_over_4_mb_is_refused,
    a_batch_read_of_101_keys_is_refused,
    a_query_page_reads_at_most_about_1_mb,
);

#[tokio::test]
async fn an_embedded_store_file_is_shared_between_handles() {
    let dir = std::env::temp_dir().join(format!("partner-store-{}", ulid::Ulid::generate()));
    let path = dir.join("store.sqlite3");
    let first = Store::sqlite(&path).unwrap();
    let second = Store::sqlite(&path).unwrap();
    first
        .write(put_new(json!({"pk": "P", "sk": "S"})))
        .await
        .unwrap();
    let again = second.write(put_new(json!({"pk": "P", "sk": "S"}))).await;
    assert!(matches!(again, Err(StoreError::ConditionFailed { .. })));
    let _ = testing::memory();
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn an_embedded_store_file_checkpoints_its_log_in_the_background() {
    let dir = std::env::temp_dir().join(format!("partner-store-{}", ulid::Ulid::generate()));
    let path = dir.join("store.sqlite3");
    let store = Store::sqlite(&path).unwrap();
    let empty = std::fs::metadata(&path).unwrap().len();
    let body = "x".repeat(2000);
    for n in 0..300 {
        store
            .write(put_new(
                json!({"pk": "P", "sk": format!("{n}"), "body": body}),
            ))
            .await
            .unwrap();
    }
    // Commits no longer checkpoint (autocheckpoint is off); only the background thread
    // copies the log into the database file, which therefore grows.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() < empty + 300 * 2000
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(std::fs::metadata(&path).unwrap().len() >= empty + 300 * 2000);
    drop(store);
    std::fs::remove_dir_all(dir).ok();
}

mod cursor_properties {
    use partner_store::{Index, Query, StoreError, testing};
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// A tampered or made-up cursor never reads another partition: it is refused,
        /// or (if it happens to decode to this partition) stays inside it.
        #[test]
        fn no_cursor_leaves_its_partition(cursor in "[A-Za-z0-9_-]{0,200}", forged_sk in "[A-Z0-9#]{0,12}") {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let store = testing::memory();
                for n in 0..3 {
                    store.write(partner_store::WriteOp::Put { item: match json!({"pk": "MINE", "sk": format!("{n}")}) { serde_json::Value::Object(m) => m, _ => unreachable!() }, condition: None }).await.unwrap();
                    store.write(partner_store::WriteOp::Put { item: match json!({"pk": "THEIRS", "sk": format!("{n}")}) { serde_json::Value::Object(m) => m, _ => unreachable!() }, condition: None }).await.unwrap();
                }
                use base64::Engine as _;
                let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(json!({"i": "p", "p": "THEIRS", "k": {"pk": "THEIRS", "sk": forged_sk}}).to_string());
                for candidate in [cursor.clone(), forged] {
                    let mut query = Query::partition(Index::Primary, "MINE");
                    query.cursor = Some(candidate);
                    match store.query(&query).await {
                        Ok(page) => prop_assert!(page.items.iter().all(|i| i["pk"] == "MINE")),
                        Err(StoreError::InvalidCursor) => {}
                        Err(other) => prop_assert!(false, "unexpected {other:?}"),
                    }
                }
                Ok(())
            })?;
        }
    }
}
