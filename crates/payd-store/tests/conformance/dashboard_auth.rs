//! The dashboard's account security and user management: TOTP steps and recovery codes
//! accepted once, login challenges ended by wrong codes (which count towards the lockout),
//! invitations used once and never after expiry or revocation, the last admin and the last
//! operator kept, password changes ending the other sessions; each change with its audit line.

use chrono::Duration;
use payd_core::ids::{AccountId, UserId};
use payd_core::user::{Role, User};
use payd_store::auth::{Invitation, NewSession, SecondFactor};
use payd_store::users::AuditEntry;
use payd_store::{now, Store, StoreError};

use crate::fixtures::merchant;

conformance!(
    a_totp_step_and_a_recovery_code_are_each_accepted_once,
    wrong_codes_end_the_challenge_and_count_towards_the_lockout,
    an_invitation_is_used_once_and_never_after_expiry_or_revocation,
    the_last_admin_and_the_last_operator_are_kept_and_removal_ends_sessions,
    a_password_change_ends_every_other_session,
    a_role_changes_with_its_line_and_the_last_admin_stays_one,
    a_reset_link_works_once_ends_sessions_and_lifts_the_lock,
);

fn line(action: &str, account: Option<&AccountId>) -> AuditEntry {
    AuditEntry {
        user_id: None,
        actor: "test".into(),
        account_id: account.cloned(),
        action: action.into(),
        target: "t".into(),
        detail: String::new(),
        at: now(),
    }
}

async fn user(store: &Store, email: &str, role: Role, account: Option<&AccountId>) -> User {
    let u = User {
        id: UserId::new(),
        account_id: account.cloned(),
        email: email.into(),
        role,
        failed_logins: 0,
        locked_until: None,
        created_at: now(),
    };
    store.create_user(&u, "$argon2id$placeholder", &line("user.create", account)).await.expect("user");
    u
}

async fn actions(store: &Store, account: &AccountId) -> Vec<String> {
    store.audit_log(Some(account), 100).await.expect("log").into_iter().map(|l| l.action).collect()
}

async fn a_totp_step_and_a_recovery_code_are_each_accepted_once(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = Some(&m.account_id);
    let u = user(&store, "ann@example.com", Role::Admin, a).await;
    assert!(store.totp(&u.id).await.expect("totp").is_none());
    store.begin_totp(&u.id, "v1.sealed", &line("totp.setup", a)).await.expect("begin");
    let t = store.totp(&u.id).await.expect("totp").expect("set up");
    assert!(!t.enabled && t.secret_sealed == "v1.sealed" && t.last_step == -1);
    // Starting over replaces a set-up that was not switched on.
    store.begin_totp(&u.id, "v1.other", &line("totp.setup", a)).await.expect("again");
    let codes = vec!["h1".to_owned(), "h2".to_owned()];
    assert!(store.enable_totp(&u.id, 100, &codes, &line("totp.enable", a)).await.expect("enable"));
    assert!(!store.enable_totp(&u.id, 101, &codes, &line("totp.enable", a)).await.expect("twice"));
    assert!(matches!(
        store.begin_totp(&u.id, "v1.x", &line("totp.setup", a)).await,
        Err(StoreError::Conflict("totp_enabled"))
    ));
    assert_eq!(store.unused_recovery_codes(&u.id).await.expect("count"), 2);

    let t0 = now();
    let session =
        |hash: &'static str| NewSession { token_hash: hash, now: t0, expires_at: t0 + Duration::hours(1) };
    store
        .open_challenge(&u.id, "c1", t0, t0 + Duration::minutes(5), &line("login.password_ok", a))
        .await
        .expect("c1");
    assert_eq!(store.challenge("c1", t0).await.expect("read").expect("live").user.id, u.id);
    // The step that enabled TOTP, and older ones, are spent.
    for step in [99, 100] {
        let f = SecondFactor::TotpStep(step);
        assert!(!store
            .complete_challenge("c1", &u.id, &f, &session("s0"), &line("session.login", a))
            .await
            .expect("old"));
    }
    let f = SecondFactor::TotpStep(101);
    assert!(store
        .complete_challenge("c1", &u.id, &f, &session("s1"), &line("session.login", a))
        .await
        .expect("ok"));
    assert!(store.session("s1", t0).await.expect("session").is_some());
    assert!(store.session("s0", t0).await.expect("no session").is_none());
    assert!(store.challenge("c1", t0).await.expect("read").is_none(), "the challenge ended");
    // The same step again, from a new challenge: refused.
    store
        .open_challenge(&u.id, "c2", t0, t0 + Duration::minutes(5), &line("login.password_ok", a))
        .await
        .expect("c2");
    assert!(!store
        .complete_challenge("c2", &u.id, &f, &session("s2"), &line("session.login", a))
        .await
        .expect("replay"));
    // A recovery code works once; an unknown one never.
    let r = SecondFactor::RecoveryCode("h1".into());
    assert!(store
        .complete_challenge("c2", &u.id, &r, &session("s2"), &line("session.login", a))
        .await
        .expect("code"));
    store
        .open_challenge(&u.id, "c3", t0, t0 + Duration::minutes(5), &line("login.password_ok", a))
        .await
        .expect("c3");
    assert!(!store
        .complete_challenge("c3", &u.id, &r, &session("s3"), &line("session.login", a))
        .await
        .expect("used"));
    let unknown = SecondFactor::RecoveryCode("nope".into());
    assert!(!store
        .complete_challenge("c3", &u.id, &unknown, &session("s3"), &line("session.login", a))
        .await
        .expect("unknown"));
    assert_eq!(store.unused_recovery_codes(&u.id).await.expect("count"), 1);
    // An expired challenge opens nothing.
    store
        .open_challenge(&u.id, "c4", t0, t0 + Duration::seconds(1), &line("login.password_ok", a))
        .await
        .expect("c4");
    let later = t0 + Duration::seconds(2);
    assert!(store.challenge("c4", later).await.expect("read").is_none());

    assert!(store.disable_totp(&u.id, &line("totp.disable", a)).await.expect("disable"));
    assert!(!store.disable_totp(&u.id, &line("totp.disable", a)).await.expect("off"));
    assert!(store.totp(&u.id).await.expect("totp").is_none());
    assert_eq!(store.unused_recovery_codes(&u.id).await.expect("count"), 0);
    let log = actions(&store, &m.account_id).await;
    for (action, n) in [("totp.setup", 2), ("totp.enable", 1), ("session.login", 2), ("totp.disable", 1)] {
        assert_eq!(log.iter().filter(|l| *l == action).count(), n, "{action}: {log:?}");
    }
}

async fn wrong_codes_end_the_challenge_and_count_towards_the_lockout(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = Some(&m.account_id);
    let u = user(&store, "ann@example.com", Role::Admin, a).await;
    let t0 = now();
    let lock = t0 + Duration::minutes(15);
    store
        .open_challenge(&u.id, "c1", t0, t0 + Duration::minutes(5), &line("login.password_ok", a))
        .await
        .expect("c1");
    let after = store.fail_challenge("c1", &u.id, 2, 5, lock, &line("login.failed", a)).await.expect("fail");
    assert_eq!(after.failed_logins, 1);
    assert_eq!(store.challenge("c1", t0).await.expect("read").expect("live").failures, 1);
    store.fail_challenge("c1", &u.id, 2, 5, lock, &line("login.failed", a)).await.expect("fail");
    assert!(store.challenge("c1", t0).await.expect("read").is_none(), "ended after two");
    // Three more wrong codes (from a new challenge) make five: the user is locked, and the
    // pending login ends with the lock.
    store
        .open_challenge(&u.id, "c2", t0, t0 + Duration::minutes(5), &line("login.password_ok", a))
        .await
        .expect("c2");
    let mut last = after;
    for _ in 0..3 {
        last = store.fail_challenge("c2", &u.id, 10, 5, lock, &line("login.failed", a)).await.expect("fail");
    }
    assert!(last.locked_at(t0), "{last:?}");
    assert!(store.challenge("c2", t0).await.expect("read").is_none());
    assert!(store.unlock_user(&u.id, &line("user.unlock", a)).await.expect("unlock"));
    let u2 = store.user(&u.id).await.expect("read").expect("user");
    assert!(!u2.locked_at(t0) && u2.failed_logins == 0);
    assert!(!store.unlock_user(&UserId::new(), &line("user.unlock", a)).await.expect("nobody"));
    let log = actions(&store, &m.account_id).await;
    assert_eq!(log.iter().filter(|l| *l == "login.failed").count(), 5);
    assert_eq!(log.iter().filter(|l| *l == "user.unlock").count(), 1);
}

fn invitation(id: &str, account: Option<&AccountId>, email: &str, role: Role, ttl: Duration) -> Invitation {
    let t = now();
    Invitation {
        id: id.into(),
        account_id: account.cloned(),
        email: email.into(),
        role,
        invited_by: "ann@example.com".into(),
        created_at: t,
        expires_at: t + ttl,
        accepted_at: None,
        revoked_at: None,
    }
}

fn invitee(i: &Invitation) -> User {
    User {
        id: UserId::new(),
        account_id: i.account_id.clone(),
        email: i.email.clone(),
        role: i.role,
        failed_logins: 0,
        locked_until: None,
        created_at: now(),
    }
}

async fn an_invitation_is_used_once_and_never_after_expiry_or_revocation(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let a = Some(&m.account_id);
    let week = Duration::days(7);
    let i1 = invitation("inv_1", a, "bob@example.com", Role::Viewer, week);
    let i2 = invitation("inv_2", a, "cy@example.com", Role::Admin, week);
    let i3 = invitation("inv_3", a, "dee@example.com", Role::Viewer, Duration::milliseconds(1));
    let i4 = invitation("inv_4", Some(&other.account_id), "eve@example.com", Role::Admin, week);
    let i5 = invitation("inv_5", None, "op@example.com", Role::Operator, week);
    for (i, h) in [(&i1, "t1"), (&i2, "t2"), (&i3, "t3"), (&i4, "t4"), (&i5, "t5")] {
        store
            .create_invitation(i, h, &line("invitation.create", i.account_id.as_ref()))
            .await
            .expect("create");
    }
    let t0 = now() + Duration::milliseconds(5);
    let pending = store.pending_invitations(a, t0).await.expect("pending");
    assert_eq!(pending.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().len(), 2, "{pending:?}");
    assert!(pending.iter().all(|i| i.account_id.as_ref() == a));
    assert_eq!(store.pending_invitations(None, t0).await.expect("all").len(), 4);
    assert_eq!(store.invitation_by_token("t1").await.expect("by token").expect("found").id, "inv_1");
    assert_eq!(
        store.invitation("inv_4").await.expect("by id").expect("found").account_id,
        Some(other.account_id.clone())
    );

    let s = NewSession { token_hash: "s1", now: t0, expires_at: t0 + Duration::hours(1) };
    let bob = invitee(&i1);
    store
        .accept_invitation("t1", &bob, "$argon2id$x", &s, &[line("invitation.accept", a)])
        .await
        .expect("accept");
    assert_eq!(store.user(&bob.id).await.expect("read").expect("bob").role, Role::Viewer);
    assert!(store.session("s1", t0).await.expect("session").is_some());
    let again = invitee(&i1);
    let s2 = NewSession { token_hash: "s2", ..s.clone() };
    assert!(matches!(
        store.accept_invitation("t1", &again, "$argon2id$x", &s2, &[line("invitation.accept", a)]).await,
        Err(StoreError::NotFound("invitation"))
    ));
    assert!(store.user(&again.id).await.expect("read").is_none(), "nothing was written");
    // Expired.
    assert!(matches!(
        store.accept_invitation("t3", &invitee(&i3), "$argon2id$x", &s2, &[]).await,
        Err(StoreError::NotFound("invitation"))
    ));
    // Revoked: once; then it opens nothing.
    assert!(store.revoke_invitation("inv_2", t0, &line("invitation.revoke", a)).await.expect("revoke"));
    assert!(!store.revoke_invitation("inv_2", t0, &line("invitation.revoke", a)).await.expect("twice"));
    assert!(!store.revoke_invitation("inv_1", t0, &line("invitation.revoke", a)).await.expect("used"));
    assert!(matches!(
        store.accept_invitation("t2", &invitee(&i2), "$argon2id$x", &s2, &[]).await,
        Err(StoreError::NotFound("invitation"))
    ));
    assert!(store.pending_invitations(a, t0).await.expect("pending").is_empty());
    // An email taken since the invitation: refused, the invitation stays pending.
    user(&store, "op@example.com", Role::Viewer, a).await;
    assert!(matches!(
        store.accept_invitation("t5", &invitee(&i5), "$argon2id$x", &s2, &[]).await,
        Err(StoreError::Conflict("users_email_key"))
    ));
    assert!(store.invitation("inv_5").await.expect("read").expect("found").pending_at(t0));
    let log = actions(&store, &m.account_id).await;
    assert_eq!(log.iter().filter(|l| *l == "invitation.accept").count(), 1);
    assert_eq!(log.iter().filter(|l| *l == "invitation.revoke").count(), 1);
}

async fn the_last_admin_and_the_last_operator_are_kept_and_removal_ends_sessions(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = Some(&m.account_id);
    let ann = user(&store, "ann@example.com", Role::Admin, a).await;
    let bob = user(&store, "bob@example.com", Role::Admin, a).await;
    let vi = user(&store, "vi@example.com", Role::Viewer, a).await;
    let op = user(&store, "op@example.com", Role::Operator, None).await;
    let t0 = now();
    store
        .open_session(&bob.id, "sb", t0, t0 + Duration::hours(1), &line("session.login", a))
        .await
        .expect("login");
    let mut as_bob = line("payment.cancel", a);
    as_bob.user_id = Some(bob.id.clone());
    store.record_audit(&as_bob).await.expect("bob acts");
    assert_eq!(store.users_of(a).await.expect("users").len(), 3);
    assert_eq!(store.users_of(None).await.expect("all").len(), 4);

    store.remove_user(&bob.id, &line("user.remove", a)).await.expect("remove bob");
    assert!(store.user(&bob.id).await.expect("read").is_none());
    assert!(store.session("sb", t0).await.expect("session").is_none(), "bob's session ended");
    // Bob's line stays, unlinked from the removed row.
    let log = store.audit_log(a, 100).await.expect("log");
    assert!(log.iter().any(|l| l.action == "payment.cancel" && l.user_id.is_none()));
    // Ann is the last admin now; the viewer goes.
    assert!(matches!(
        store.remove_user(&ann.id, &line("user.remove", a)).await,
        Err(StoreError::Conflict("last_admin"))
    ));
    store.remove_user(&vi.id, &line("user.remove", a)).await.expect("remove viewer");
    assert!(matches!(
        store.remove_user(&op.id, &line("user.remove", None)).await,
        Err(StoreError::Conflict("last_operator"))
    ));
    assert!(matches!(
        store.remove_user(&bob.id, &line("user.remove", a)).await,
        Err(StoreError::NotFound("user"))
    ));
    assert_eq!(store.users_of(None).await.expect("all").len(), 2);
    assert_eq!(actions(&store, &m.account_id).await.iter().filter(|l| *l == "user.remove").count(), 2);
}

async fn a_password_change_ends_every_other_session(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = Some(&m.account_id);
    let ann = user(&store, "ann@example.com", Role::Admin, a).await;
    let t0 = now();
    for s in ["s1", "s2", "s3"] {
        store
            .open_session(&ann.id, s, t0, t0 + Duration::hours(1), &line("session.login", a))
            .await
            .expect("login");
    }
    store
        .change_password(&ann.id, "$argon2id$new", "s2", &line("user.password_change", a))
        .await
        .expect("change");
    assert!(store.session("s2", t0).await.expect("kept").is_some());
    for s in ["s1", "s3"] {
        assert!(store.session(s, t0).await.expect("ended").is_none(), "{s}");
    }
    let (_, hash) = store.user_by_email("ann@example.com").await.expect("read").expect("ann");
    assert_eq!(hash, "$argon2id$new");
    assert!(matches!(
        store.change_password(&UserId::new(), "$argon2id$x", "s2", &line("user.password_change", a)).await,
        Err(StoreError::NotFound("user"))
    ));
    assert_eq!(
        actions(&store, &m.account_id).await.iter().filter(|l| *l == "user.password_change").count(),
        1
    );
}

async fn a_role_changes_with_its_line_and_the_last_admin_stays_one(store: Store) {
    let m = merchant(&store, "Shop").await;
    let other = merchant(&store, "Other").await;
    let a = Some(&m.account_id);
    let ann = user(&store, "ann@example.com", Role::Admin, a).await;
    let val = user(&store, "val@example.com", Role::Viewer, a).await;
    let zed = user(&store, "zed@example.com", Role::Admin, Some(&other.account_id)).await;
    let op = user(&store, "op@example.com", Role::Operator, None).await;
    let t0 = now();
    store
        .open_session(&val.id, "sv", t0, t0 + Duration::hours(1), &line("session.login", a))
        .await
        .expect("session");
    let role_of = |id: UserId| {
        let store = store.clone();
        async move { store.user(&id).await.expect("read").expect("user").role }
    };
    let count = || actions(&store, &m.account_id);

    // Val becomes an admin, with one line; her session reads the new role.
    assert!(store
        .set_user_role(&val.id, Role::Admin, &ann.id, &line("user.role", a))
        .await
        .expect("promote"));
    assert_eq!(role_of(val.id.clone()).await, Role::Admin);
    assert_eq!(store.session("sv", now()).await.expect("session").expect("open").user.role, Role::Admin);
    assert_eq!(count().await.iter().filter(|l| *l == "user.role").count(), 1);
    // The same role again: nothing written.
    assert!(!store.set_user_role(&val.id, Role::Admin, &ann.id, &line("user.role", a)).await.expect("same"));
    assert_eq!(count().await.iter().filter(|l| *l == "user.role").count(), 1);
    // A line the database refuses takes the change with it.
    let refused = AuditEntry { user_id: Some(UserId::new()), ..line("user.role", a) };
    assert!(store.set_user_role(&val.id, Role::Viewer, &ann.id, &refused).await.is_err());
    assert_eq!(role_of(val.id.clone()).await, Role::Admin);
    // An admin of another account, or a viewer, may not; an operator may.
    for actor in [&zed.id, &UserId::new()] {
        assert!(matches!(
            store.set_user_role(&val.id, Role::Viewer, actor, &line("user.role", a)).await,
            Err(StoreError::Conflict("actor_role"))
        ));
    }
    assert!(store.set_user_role(&ann.id, Role::Viewer, &op.id, &line("user.role", a)).await.expect("demote"));
    assert!(matches!(
        store.set_user_role(&val.id, Role::Admin, &ann.id, &line("user.role", a)).await,
        Err(StoreError::Conflict("actor_role"))
    ));
    // Val is the last admin now: she stays one.
    assert!(matches!(
        store.set_user_role(&val.id, Role::Viewer, &op.id, &line("user.role", a)).await,
        Err(StoreError::Conflict("last_admin"))
    ));
    assert_eq!(role_of(val.id.clone()).await, Role::Admin);
    // Operators have no role to change, and none is given.
    assert!(matches!(
        store.set_user_role(&op.id, Role::Viewer, &op.id, &line("user.role", None)).await,
        Err(StoreError::Conflict("role"))
    ));
    assert!(matches!(
        store.set_user_role(&ann.id, Role::Operator, &op.id, &line("user.role", a)).await,
        Err(StoreError::Conflict("role"))
    ));
    assert!(matches!(
        store.set_user_role(&UserId::new(), Role::Viewer, &op.id, &line("user.role", a)).await,
        Err(StoreError::NotFound("user"))
    ));
    assert_eq!(count().await.iter().filter(|l| *l == "user.role").count(), 2);
}

async fn a_reset_link_works_once_ends_sessions_and_lifts_the_lock(store: Store) {
    let m = merchant(&store, "Shop").await;
    let a = Some(&m.account_id);
    let val = user(&store, "val@example.com", Role::Viewer, a).await;
    let t0 = now();
    store
        .open_session(&val.id, "s1", t0, t0 + Duration::hours(1), &line("session.login", a))
        .await
        .expect("s1");
    store
        .open_session(&val.id, "s2", t0, t0 + Duration::hours(1), &line("session.login", a))
        .await
        .expect("s2");
    for _ in 0..5 {
        store
            .record_failed_login(&val.id, 5, t0 + Duration::minutes(15), &line("login.failed", a))
            .await
            .expect("fail");
    }
    assert!(store.user(&val.id).await.expect("read").expect("user").locked_at(now()));
    let expires = t0 + Duration::hours(24);
    store
        .create_password_reset(&val.id, "old", "ann@example.com", expires, &line("link", a))
        .await
        .expect("old");
    store
        .create_password_reset(&val.id, "new", "ann@example.com", expires, &line("link", a))
        .await
        .expect("new");
    // The newer link replaced the older; an expired one opens nothing.
    assert!(store.password_reset_user("old", now()).await.expect("read").is_none());
    assert_eq!(store.password_reset_user("new", now()).await.expect("read").expect("pending").id, val.id);
    assert!(store.password_reset_user("new", expires).await.expect("read").is_none());
    // A line that cannot be written leaves everything as it was.
    let refused = AuditEntry { user_id: Some(UserId::new()), ..line("user.password_reset", a) };
    assert!(store.use_password_reset("new", &val.id, "$argon2id$new", &refused).await.is_err());
    assert!(store.session("s1", now()).await.expect("session").is_some());
    assert!(store.password_reset_user("new", now()).await.expect("read").is_some());
    // Another user's id does not use it.
    let other = user(&store, "bob@example.com", Role::Viewer, a).await;
    assert!(matches!(
        store.use_password_reset("new", &other.id, "$argon2id$new", &line("user.password_reset", a)).await,
        Err(StoreError::NotFound("password_reset"))
    ));
    store
        .use_password_reset("new", &val.id, "$argon2id$new", &line("user.password_reset", a))
        .await
        .expect("use");
    let (after, hash) = store.user_by_email("val@example.com").await.expect("read").expect("user");
    assert_eq!(hash, "$argon2id$new");
    assert!(!after.locked_at(now()) && after.failed_logins == 0, "the lock is lifted");
    for s in ["s1", "s2"] {
        assert!(store.session(s, now()).await.expect("session").is_none(), "{s} ended");
    }
    // Used once.
    assert!(store.password_reset_user("new", now()).await.expect("read").is_none());
    assert!(matches!(
        store.use_password_reset("new", &val.id, "$argon2id$again", &line("user.password_reset", a)).await,
        Err(StoreError::NotFound("password_reset"))
    ));
    assert_eq!(
        actions(&store, &m.account_id).await.iter().filter(|l| *l == "user.password_reset").count(),
        1
    );
    // A user with a pending link can still be removed.
    store
        .create_password_reset(&val.id, "third", "ann@example.com", expires, &line("link", a))
        .await
        .expect("third");
    store.remove_user(&val.id, &line("user.remove", a)).await.expect("remove");
    assert!(store.password_reset_user("third", now()).await.expect("read").is_none());
}
