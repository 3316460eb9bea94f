//! Changing a user's role on the users page, over HTTP on both backends: an admin (for their
//! account) or an operator makes a viewer an admin and an admin a viewer; the target's open
//! session has the new role at its next request; nobody changes their own role, the last
//! admin of an account stays one, a viewer is refused (also posting by hand), another
//! account's users are not found (listed, guessed or malformed ids); one audit line per
//! change and none for a refusal. And the password reset link an admin makes for a user:
//! shown once, used once, ending the user's sessions and lifting their lockout.

use payd_core::ids::{AccountId, UserId};
use payd_core::user::Role;

use crate::backend_tests;
use crate::dashboard::{get, login, shop, user, Browser};
use crate::helpers::TestApp;

backend_tests!(
    an_admin_changes_a_users_role_and_their_session_follows_at_once,
    role_changes_are_refused_to_viewers_oneself_and_other_accounts,
    a_reset_link_sets_a_new_password_once_and_ends_the_users_sessions,
);

async fn user_id(app: &TestApp, email: &str, role: Role, account: Option<&AccountId>) -> UserId {
    user(app, email, role, account).await;
    app.store.user_by_email(email).await.unwrap().unwrap().0.id
}

/// Posts the role form (with the session's token unless `csrf` is `None`).
async fn set_role(app: &TestApp, b: &Browser, id: &str, role: &str, csrf: Option<&str>) -> (u16, String) {
    let mut form = vec![("role", role)];
    if let Some(c) = csrf {
        form.push(("csrf", c));
    }
    let path = format!("/dashboard/users/{id}/role");
    let res = app.client.post(app.url(&path)).header("cookie", &b.cookie).form(&form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn role_of(app: &TestApp, id: &UserId) -> Role {
    app.store.user(id).await.unwrap().unwrap().role
}

async fn role_lines(app: &TestApp) -> Vec<payd_store::users::AuditEntry> {
    let log = app.store.audit_log(None, 500).await.unwrap();
    log.into_iter().filter(|l| l.action == "user.role").collect()
}

async fn an_admin_changes_a_users_role_and_their_session_follows_at_once(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let ann = user_id(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let val = user_id(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let a = login(&app, "ann@example.com").await;
    let v = login(&app, "val@example.com").await;
    // The page offers the change for others, never for oneself.
    let (_, html) = get(&app, &a, "/dashboard/users").await;
    assert!(html.contains(&format!("/dashboard/users/{val}/role")), "{html}");
    assert!(!html.contains(&format!("/dashboard/users/{ann}/role")), "{html}");
    assert!(html.contains("Make admin"));
    // Val is a viewer: refused an admin's change, until Ann makes her an admin.
    let hook = [("merchant", m.id.to_string())];
    let probe = |b: &Browser| {
        let mut form =
            vec![("csrf", b.csrf.clone()), ("mode", "test".to_owned()), ("url", "not a url".to_owned())];
        form.extend(hook.iter().map(|(k, v)| (*k, v.clone())));
        app.client.post(app.url("/dashboard/webhooks")).header("cookie", b.cookie.clone()).form(&form).send()
    };
    assert_eq!(probe(&v).await.unwrap().status(), 403, "a viewer is refused");
    assert_eq!(set_role(&app, &a, &val.to_string(), "admin", Some(&a.csrf)).await.0, 303);
    assert_eq!(role_of(&app, &val).await, Role::Admin);
    // Her open session has the new role at its very next request (400: checked, not refused).
    assert_eq!(probe(&v).await.unwrap().status(), 400, "the session is an admin's now");
    let (_, html) = get(&app, &v, "/dashboard/users").await;
    assert!(html.contains("Invite someone"), "{html}");
    // The same role again changes nothing and writes no line.
    assert_eq!(set_role(&app, &a, &val.to_string(), "admin", Some(&a.csrf)).await.0, 303);
    // Back to viewer: refused again at once.
    assert_eq!(set_role(&app, &a, &val.to_string(), "viewer", Some(&a.csrf)).await.0, 303);
    assert_eq!(role_of(&app, &val).await, Role::Viewer);
    assert_eq!(probe(&v).await.unwrap().status(), 403);
    // Neither operator nor anything else is a role given here.
    for role in ["operator", "owner", ""] {
        let (status, _) = set_role(&app, &a, &val.to_string(), role, Some(&a.csrf)).await;
        assert_eq!(status, 400, "{role}");
    }
    assert_eq!(role_of(&app, &val).await, Role::Viewer);
    let lines = role_lines(&app).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines.iter().all(|l| l.target == val.to_string() && l.actor == "ann@example.com"));
    assert!(lines.iter().any(|l| l.detail == "val@example.com: viewer to admin"), "{lines:?}");
    assert!(lines.iter().any(|l| l.detail == "val@example.com: admin to viewer"), "{lines:?}");
    assert!(lines.iter().all(|l| l.account_id.as_ref() == Some(&m.account_id)));

    // An operator demotes an admin, but never the account's last one.
    user(&app, "op@example.com", Role::Operator, None).await;
    let op = login(&app, "op@example.com").await;
    let (status, html) = set_role(&app, &op, &ann.to_string(), "viewer", Some(&op.csrf)).await;
    assert_eq!(status, 400);
    assert!(html.contains("last admin"), "{html}");
    assert_eq!(role_of(&app, &ann).await, Role::Admin);
    assert_eq!(set_role(&app, &op, &val.to_string(), "admin", Some(&op.csrf)).await.0, 303);
    assert_eq!(set_role(&app, &op, &ann.to_string(), "viewer", Some(&op.csrf)).await.0, 303);
    assert_eq!(role_of(&app, &ann).await, Role::Viewer);
    // Ann's own session is a viewer's now: she changes no role any more.
    let (status, _) = set_role(&app, &a, &val.to_string(), "viewer", Some(&a.csrf)).await;
    assert_eq!(status, 403);
    assert_eq!(role_of(&app, &val).await, Role::Admin);
    assert_eq!(role_lines(&app).await.len(), 4);
}

async fn role_changes_are_refused_to_viewers_oneself_and_other_accounts(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let (other, _) = shop(&app, "Other").await;
    let ann = user_id(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let bea = user_id(&app, "bea@example.com", Role::Admin, Some(&m.account_id)).await;
    let val = user_id(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    let zed = user_id(&app, "zed@example.com", Role::Admin, Some(&other.account_id)).await;
    let op = user_id(&app, "op@example.com", Role::Operator, None).await;
    let a = login(&app, "ann@example.com").await;
    // Nobody changes their own role, even with another admin beside them.
    assert_eq!(set_role(&app, &a, &ann.to_string(), "viewer", Some(&a.csrf)).await.0, 400);
    // A viewer is refused, with the form token or by hand without it.
    let v = login(&app, "val@example.com").await;
    let (_, html) = get(&app, &v, "/dashboard/users").await;
    assert!(!html.contains("Make viewer") && !html.contains("Make admin"), "{html}");
    assert_eq!(set_role(&app, &v, &bea.to_string(), "viewer", Some(&v.csrf)).await.0, 403);
    assert_eq!(set_role(&app, &v, &val.to_string(), "admin", Some(&v.csrf)).await.0, 403);
    assert_eq!(set_role(&app, &v, &bea.to_string(), "viewer", None).await.0, 403);
    // Without the form token or from another site: refused, whoever asks.
    assert_eq!(set_role(&app, &a, &val.to_string(), "admin", None).await.0, 403);
    let res = app
        .client
        .post(app.url(&format!("/dashboard/users/{val}/role")))
        .header("cookie", &a.cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", a.csrf.as_str()), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Another account's admin finds none of this account's users, nor an operator, nor a
    // guessed or malformed id.
    let z = login(&app, "zed@example.com").await;
    for id in
        [bea.to_string(), val.to_string(), op.to_string(), UserId::new().to_string(), "not-an-id".into()]
    {
        assert_eq!(set_role(&app, &z, &id, "viewer", Some(&z.csrf)).await.0, 404, "{id}");
    }
    // An admin does not reach the operator either.
    assert_eq!(set_role(&app, &a, &op.to_string(), "viewer", Some(&a.csrf)).await.0, 404);
    for (id, role) in [(&bea, Role::Admin), (&val, Role::Viewer), (&zed, Role::Admin), (&op, Role::Operator)]
    {
        assert_eq!(role_of(&app, id).await, role, "{id}");
    }
    assert!(role_lines(&app).await.is_empty(), "no refused change has a line");
}

async fn try_login(app: &TestApp, email: &str, password: &str) -> u16 {
    let page = app.client.get(app.url("/dashboard/login")).send().await.unwrap();
    let nonce = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("payd_login="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = crate::dashboard::field(&page.text().await.unwrap(), "csrf");
    let res = app
        .client
        .post(app.url("/dashboard/login"))
        .header("cookie", nonce)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// Posts the reset link's form as its page gives it.
async fn use_link(app: &TestApp, path: &str, password: &str) -> (u16, String) {
    let page = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = crate::dashboard::field(&page.text().await.unwrap(), "csrf");
    let res = app
        .client
        .post(app.url(path))
        .form(&[("csrf", csrf.as_str()), ("password", password)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn a_reset_link_sets_a_new_password_once_and_ends_the_users_sessions(app: TestApp) {
    let (m, _) = shop(&app, "Shop").await;
    let (other, _) = shop(&app, "Other").await;
    let ann = user_id(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let val = user_id(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    user(&app, "zed@example.com", Role::Admin, Some(&other.account_id)).await;
    let a = login(&app, "ann@example.com").await;
    let v = login(&app, "val@example.com").await;
    // Val forgets her password and locks herself out.
    for _ in 0..payd_server::engine::users::MAX_FAILURES {
        assert_eq!(try_login(&app, "val@example.com", "not her password").await, 401);
    }
    assert!(app.store.user(&val).await.unwrap().unwrap().locked_until.is_some());
    // Refused: to a viewer, for oneself, across accounts, without the form token.
    let reset = |b: &Browser, id: String, csrf: bool| {
        let mut form = vec![];
        if csrf {
            form.push(("csrf", b.csrf.clone()));
        }
        app.client
            .post(app.url(&format!("/dashboard/users/{id}/reset")))
            .header("cookie", b.cookie.clone())
            .form(&form)
            .send()
    };
    assert_eq!(reset(&v, ann.to_string(), true).await.unwrap().status(), 403);
    assert_eq!(reset(&a, ann.to_string(), true).await.unwrap().status(), 400);
    assert_eq!(reset(&a, val.to_string(), false).await.unwrap().status(), 403);
    let z = login(&app, "zed@example.com").await;
    assert_eq!(reset(&z, val.to_string(), true).await.unwrap().status(), 404);
    assert_eq!(reset(&z, UserId::new().to_string(), true).await.unwrap().status(), 404);
    // Ann makes a link: shown once, not cached.
    let res = reset(&a, val.to_string(), true).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let link = html.split("id=\"reset-link\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let path = link[link.find("/dashboard/reset/").unwrap()..].to_owned();
    let token = path.trim_start_matches("/dashboard/reset/").to_owned();
    let (_, users_page) = get(&app, &a, "/dashboard/users").await;
    assert!(!users_page.contains(&token), "shown once");
    let log = app.store.audit_log(None, 500).await.unwrap();
    assert!(!log.iter().any(|l| l.detail.contains(&token)), "never logged");
    // A short password is refused and the link still works; a forged form token is refused.
    let (status, body) = use_link(&app, &path, "short").await;
    assert_eq!(status, 400, "{body}");
    let res = app
        .client
        .post(app.url(&path))
        .form(&[("csrf", "0".repeat(64).as_str()), ("password", "a new password 1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (status, body) = use_link(&app, &path, "a new password 1").await;
    assert_eq!(status, 200, "{body}");
    // Her old session is gone, the lock is lifted, the new password works and the old not.
    assert_eq!(get(&app, &v, "/dashboard/payments").await.0, 303);
    assert!(app.store.user(&val).await.unwrap().unwrap().locked_until.is_none());
    assert_eq!(try_login(&app, "val@example.com", crate::dashboard::PASSWORD).await, 401);
    assert_eq!(try_login(&app, "val@example.com", "a new password 1").await, 303);
    // Used once; malformed and unknown tokens find nothing.
    assert_eq!(app.client.get(app.url(&path)).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(app.url("/dashboard/reset/nope")).send().await.unwrap().status(), 404);
    assert_eq!(
        app.client
            .get(app.url(&format!("/dashboard/reset/{}", "a".repeat(64))))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let log = app.store.audit_log(Some(&m.account_id), 500).await.unwrap();
    let made: Vec<_> = log.iter().filter(|l| l.action == "user.password_reset_link").collect();
    assert_eq!(made.len(), 1, "{log:?}");
    assert_eq!(
        (made[0].target.as_str(), made[0].actor.as_str()),
        (val.to_string().as_str(), "ann@example.com")
    );
    let used: Vec<_> = log.iter().filter(|l| l.action == "user.password_reset").collect();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0].actor, "val@example.com");
}
