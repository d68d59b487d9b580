//! Profile timestamps come from the injected clock, not the wall clock: a profile created while
//! the fake clock reads a time far from today is stored at exactly that time (it orders the
//! token's profile list, Graph's profiles having no `createdDateTime` of their own).

use std::time::Duration;

use diesel::prelude::*;
use serde_json::{Map, Value, json};

use super::create;
use crate::clock::Clock;
use crate::service::test_support::Env;
use crate::storage::schema::enrollment_profiles as t;

fn ios_profile(name: &str) -> Map<String, Value> {
    let body =
        json!({"@odata.type": "#microsoft.graph.depIOSEnrollmentProfile", "displayName": name});
    body.as_object().cloned().unwrap_or_default()
}

async fn created_ticks(env: &Env, id: &str) -> i64 {
    let id = id.to_owned();
    env.read(move |c| {
        t::table
            .filter(t::id.eq(id))
            .select(t::created_ticks)
            .first::<i64>(c)
    })
    .await
}

fn id_of(profile: &Value) -> String {
    profile["id"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_created_profile_is_stamped_with_the_injected_clocks_time() {
    let env = Env::new().await;
    let first = env.clock.now_ticks();
    let a = create(&env.svc, env.tenant, &env.setting, ios_profile("A"))
        .await
        .expect("create A");
    env.advance(Duration::from_secs(3600));
    let second = env.clock.now_ticks();
    let b = create(&env.svc, env.tenant, &env.setting, ios_profile("B"))
        .await
        .expect("create B");

    assert_eq!(created_ticks(&env, &id_of(&a)).await, first);
    assert_eq!(created_ticks(&env, &id_of(&b)).await, second);
}
