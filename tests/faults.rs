//! Faults on the wire between the AWS SDK and moto (tests/support/wire.rs):
//! throttling, 5xx before a call, connections reset, and answers lost after
//! moto carried the call out. The SDK meets them with its own retries; what
//! it gives up on, the operator must take for what it is, and AWS must end
//! exactly as the spec says, read back from moto directly.

mod support;

use std::time::Duration;

use aws_access_operator::aws::sdk::SdkAws;
use aws_access_operator::aws::{Aws, NewAccount};
use aws_config::retry::RetryConfig;
use support::moto::{ACCESS_ROLE, MANAGEMENT_ACCOUNT, Moto};
use support::wire::{Fault, Faults, Wire};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_each_fault_and_a_call_sent_once_reports_it_as_retryable() {
    let moto = Moto::start().await;
    moto.create_organization().await;
    let wire = Wire::start(moto.endpoint()).await;
    // The SDK's default retry classification with quick backoff: which
    // answers it retries is the point here, not how long it waits.
    let config = moto
        .sdk_config_through(&wire.endpoint())
        .await
        .into_builder()
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)))
        .build();
    let aws = SdkAws::new(&config);
    let iam = aws.iam(MANAGEMENT_ACCOUNT, ACCESS_ROLE).await.expect("own IAM");
    let orgs = aws.organizations();

    // Reads and updates are retried by the SDK: two faults, then the call passes.
    for kind in Fault::ALL {
        let twice = |operation| Faults {
            limit: Some(2),
            ..Faults::always(&[operation], kind)
        };
        wire.inject(twice("GetRole"));
        assert_eq!(iam.get_role("absent").await, Ok(None), "GetRole through {kind:?}");
        wire.inject(twice("ListAccounts"));
        let accounts = orgs.list_accounts().await;
        assert!(accounts.is_ok(), "ListAccounts through {kind:?}: {accounts:?}");
    }
    let tally = wire.tally();
    for operation in ["GetRole", "ListAccounts"] {
        assert_eq!(tally.injected_into(operation), 8, "{operation}\n{tally}");
        // One passing attempt per kind, and the two lost answers moto saw.
        assert_eq!(tally.forwarded(operation), 6, "{operation}\n{tally}");
    }

    // A creating call is sent once: what it met reaches the operator, which
    // must see a fault it can retry (after looking for the effect), never a
    // refusal to stall on. Twice each, for both shapes of a 5xx.
    let mut refused = vec![];
    for kind in Fault::ALL {
        for attempt in 0..2 {
            let name = format!("{kind:?}-{attempt}").to_lowercase();
            wire.inject(Faults::always(&["CreateGroup"], kind));
            let group = iam.create_group(&name).await.map(|_| ());
            println!("CreateGroup through {kind:?} #{attempt}: {group:?}");
            if !group.as_ref().is_err_and(|err| err.kind.retryable()) {
                refused.push(format!("CreateGroup through {kind:?} #{attempt}: {group:?}"));
            }
        }
    }
    for kind in Fault::ALL {
        for attempt in 0..2 {
            let name = format!("{kind:?}-{attempt}").to_lowercase();
            wire.inject(Faults::always(&["CreateAccount"], kind));
            let account = orgs
                .create_account(&NewAccount {
                    name: name.clone(),
                    email: format!("{name}@example.com"),
                    access_role_name: ACCESS_ROLE.into(),
                    iam_user_access_to_billing: "ALLOW".into(),
                    tags: Default::default(),
                })
                .await
                .map(|_| ());
            println!("CreateAccount through {kind:?} #{attempt}: {account:?}");
            if !account.as_ref().is_err_and(|err| err.kind.retryable()) {
                refused.push(format!("CreateAccount through {kind:?} #{attempt}: {account:?}"));
            }
        }
    }
    wire.calm();
    let tally = wire.tally();
    println!("{tally}");
    assert!(
        refused.is_empty(),
        "faults the operator would not retry:\n{}",
        refused.join("\n")
    );
    for operation in ["CreateGroup", "CreateAccount"] {
        assert_eq!(tally.injected_into(operation), 8, "{operation}\n{tally}");
        assert_eq!(tally.forwarded(operation), 2, "only lost answers reach moto\n{tally}");
    }
    // The lost answers' effects are there all the same.
    let groups = aws_sdk_iam::Client::new(&moto.sdk_config().await)
        .list_groups()
        .send()
        .await
        .expect("ListGroups");
    let mut names: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    names.sort();
    assert_eq!(names, ["lostanswer-0", "lostanswer-1"]);
}
