//! The dashboard's account security and user management over HTTP, on both backends: TOTP
//! switched on only after a right code, logins asking for the code, wrong and replayed codes
//! refused, recovery codes working once, switching TOTP off with the password; invitations
//! accepted once and never when expired or revoked; the users page with removal (never the
//! last admin; the removed user's sessions end) and unlocking; changing a password (other
//! sessions end); viewers refused on every users and invitations post; another account's
//! users and invitations out of reach; the audit lines of each change. One test (SQLite) runs
//! tests/dashboard/access.mjs in headless Chromium.

use payd_core::ids::{AccountId, UserId};
use payd_core::merchant::{Merchant, NewMerchant};
use payd_core::secret::Secret;
use payd_core::user::Role;
use payd_server::engine::users::{self, Actor, NewUserIn};
use serde_json::json;
use totp_rs::{Algorithm, TOTP};

use crate::backend_tests;
use crate::helpers::{browser_ready, run_browser_script, spawn_app_with, TestApp};

backend_tests!(
    totp_is_switched_on_after_a_right_code_and_then_asked_at_every_login,
    recovery_codes_work_once_and_totp_is_switched_off_with_the_password,
    an_invitation_is_accepted_once_and_never_when_expired_or_revoked,
    viewers_are_refused_and_nobody_reaches_another_accounts_users,
    the_last_admin_stays_and_a_removed_users_sessions_end,
    a_locked_user_is_unlocked_early_by_an_admin,
    changing_the_password_ends_the_other_sessions,
);

const PASSWORD: &str = "correct horse battery";

async fn user(app: &TestApp, email: &str, role: Role, account: Option<&AccountId>) -> UserId {
    let input =
        NewUserIn { email: email.into(), role, account: account.cloned(), password: Secret::new(PASSWORD) };
    users::create_user(&app.store, input, &Actor::Cli, payd_store::now()).await.unwrap().id
}

async fn shop(app: &TestApp, name: &str) -> Merchant {
    app.store
        .create_merchant(&NewMerchant { name: name.into(), ..Default::default() }, payd_store::now())
        .await
        .unwrap()
}

/// A browser: its cookies (`name=value; …`) and its session's form token.
#[derive(Clone)]
struct Browser {
    cookie: String,
    csrf: String,
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn field(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let at = html.find(&pat).unwrap_or_else(|| panic!("no {name} in {html}")) + pat.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The text of the element with `id`.
fn text_of(html: &str, id: &str) -> String {
    let pat = format!("id=\"{id}\">");
    let at = html.find(&pat).unwrap_or_else(|| panic!("no #{id} in {html}")) + pat.len();
    html[at..].split('<').next().unwrap().to_owned()
}

/// Posts the password form: the answer (303 to the payments, or to the code page).
async fn password_step(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let page = app.client.get(app.url("/dashboard/login")).send().await.unwrap();
    let nonce = set_cookie(&page, "payd_login").unwrap();
    let csrf = field(&page.text().await.unwrap(), "csrf");
    app.client
        .post(app.url("/dashboard/login"))
        .header("cookie", nonce)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

async fn logged_in(app: &TestApp, res: reqwest::Response) -> Browser {
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/payments");
    let cookie = set_cookie(&res, "payd_session").expect("a session");
    let mut b = Browser { cookie, csrf: String::new() };
    let (status, html) = get(app, &b, "/dashboard/account").await;
    assert_eq!(status, 200, "{html}");
    b.csrf = field(&html, "csrf");
    b
}

async fn login(app: &TestApp, email: &str) -> Browser {
    let res = password_step(app, email, PASSWORD).await;
    logged_in(app, res).await
}

/// The password step of a user with TOTP: the challenge cookie and the code form's token.
async fn challenge(app: &TestApp, email: &str) -> Browser {
    let res = password_step(app, email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/login/code");
    assert!(set_cookie(&res, "payd_session").is_none(), "no session before the code");
    let cookie = set_cookie(&res, "payd_2fa").expect("challenge cookie");
    let page =
        app.client.get(app.url("/dashboard/login/code")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = field(&page.text().await.unwrap(), "csrf");
    Browser { cookie, csrf }
}

async fn send_code(app: &TestApp, c: &Browser, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/dashboard/login/code"))
        .header("cookie", &c.cookie)
        .form(&[("code", code), ("csrf", &c.csrf)])
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, b: &Browser, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).header("cookie", &b.cookie).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(app: &TestApp, b: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("csrf", b.csrf.as_str())];
    all.extend_from_slice(form);
    let res = app.client.post(app.url(path)).header("cookie", &b.cookie).form(&all).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn totp(secret: &str) -> TOTP {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).unwrap()
}

fn unix_now() -> u64 {
    u64::try_from(payd_store::now().timestamp()).unwrap()
}

/// A six-digit code right for none of the steps around now.
fn wrong_code(t: &TOTP) -> String {
    let now = unix_now();
    let right: Vec<String> = (0..4).map(|i| t.generate(now + i * 30 - 30)).collect();
    (0..).map(|n| format!("{n:06}")).find(|c| !right.contains(c)).unwrap()
}

/// Switches TOTP on for a logged-in browser: the secret and the recovery codes.
async fn enable_totp(app: &TestApp, b: &Browser) -> (String, Vec<String>) {
    let (status, html) = post(app, b, "/dashboard/account/totp/setup", &[]).await;
    assert_eq!(status, 200, "{html}");
    let secret = text_of(&html, "totp-secret");
    let uri = text_of(&html, "totp-uri");
    assert!(uri.starts_with("otpauth://totp/payd:") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(html.contains("<svg class=\"qr\""), "a QR code");
    let code = totp(&secret).generate(unix_now());
    let (status, html) = post(app, b, "/dashboard/account/totp/enable", &[("code", &code)]).await;
    assert_eq!(status, 200, "{html}");
    let list = text_of_list(&html);
    assert_eq!(list.len(), 10, "{html}");
    (secret, list)
}

fn text_of_list(html: &str) -> Vec<String> {
    let at = html.find("id=\"recovery-codes\"").unwrap();
    let end = html[at..].find("</ul>").unwrap() + at;
    html[at..end]
        .split("<li class=\"mono\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect()
}

async fn actions(app: &TestApp) -> Vec<(String, String)> {
    app.store.audit_log(None, 500).await.unwrap().into_iter().map(|l| (l.action, l.detail)).collect()
}

async fn totp_is_switched_on_after_a_right_code_and_then_asked_at_every_login(app: TestApp) {
    let m = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let b = login(&app, "ann@example.com").await;
    let (_, html) = get(&app, &b, "/dashboard/account").await;
    assert!(text_of(&html, "totp-state").starts_with("Off"), "{html}");

    // A wrong code does not switch it on; the same set-up is shown again.
    let (status, html) = post(&app, &b, "/dashboard/account/totp/setup", &[]).await;
    assert_eq!(status, 200);
    let secret = text_of(&html, "totp-secret");
    let t = totp(&secret);
    let (status, html) = post(&app, &b, "/dashboard/account/totp/enable", &[("code", &wrong_code(&t))]).await;
    assert_eq!(status, 400, "{html}");
    assert_eq!(text_of(&html, "totp-secret"), secret);
    let long = "9".repeat(5000);
    for bad in ["", "12345", "abcdef", long.as_str()] {
        assert_eq!(
            post(&app, &b, "/dashboard/account/totp/enable", &[("code", bad)]).await.0,
            400,
            "{bad:.8}"
        );
    }
    let (_, html) = get(&app, &b, "/dashboard/account").await;
    assert!(text_of(&html, "totp-state").starts_with("Off"));
    // Logging in still takes the password only.
    login(&app, "ann@example.com").await;

    // The right code switches it on.
    let used = t.generate(unix_now());
    let (status, html) = post(&app, &b, "/dashboard/account/totp/enable", &[("code", &used)]).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(text_of_list(&html).len(), 10);
    let (_, html) = get(&app, &b, "/dashboard/account").await;
    assert!(text_of(&html, "totp-state").starts_with("On"), "{html}");
    // A second set-up is refused while it is on.
    assert_eq!(post(&app, &b, "/dashboard/account/totp/setup", &[]).await.0, 400);

    // Now a login asks for a code; a wrong one and the one already used are refused.
    let c = challenge(&app, "ann@example.com").await;
    let res = send_code(&app, &c, &wrong_code(&t)).await;
    assert_eq!(res.status(), 401);
    assert!(set_cookie(&res, "payd_session").is_none());
    assert_eq!(send_code(&app, &c, &used).await.status(), 401, "a replayed code");
    // The next window's code (clocks may be a step apart) opens the session, once.
    let next = t.generate(unix_now() + 30);
    let b2 = logged_in(&app, send_code(&app, &c, &next).await).await;
    assert_eq!(get(&app, &b2, "/dashboard/payments").await.0, 200);
    let c2 = challenge(&app, "ann@example.com").await;
    assert_eq!(send_code(&app, &c2, &next).await.status(), 401, "replayed in a new login");
    // The code page without a challenge, or with a forged form token, leads nowhere.
    let nobody = Browser { cookie: format!("payd_2fa={}", "ab".repeat(32)), csrf: c2.csrf.clone() };
    let res = send_code(&app, &nobody, &next).await;
    assert_eq!(res.status(), 403);
    let forged = Browser { csrf: "00".repeat(32), ..c2.clone() };
    assert_eq!(send_code(&app, &forged, &next).await.status(), 403);
    let res = app.client.get(app.url("/dashboard/login/code")).send().await.unwrap();
    assert_eq!(res.status(), 303);

    // Wrong codes end the login after three, and count towards the lockout.
    let c3 = challenge(&app, "ann@example.com").await;
    for _ in 0..3 {
        assert_eq!(send_code(&app, &c3, &wrong_code(&t)).await.status(), 401);
    }
    // The ended login sends the browser back to the password, even with the right code.
    let res = send_code(&app, &c3, &t.generate(unix_now())).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/login");
    assert!(set_cookie(&res, "payd_session").is_none(), "the ended login opens nothing");
    // One more wrong code makes the fifth in a row since the last login: locked, and the
    // right password is refused.
    let c4 = challenge(&app, "ann@example.com").await;
    assert_eq!(send_code(&app, &c4, &wrong_code(&t)).await.status(), 401);
    let res = send_code(&app, &c4, &t.generate(unix_now())).await;
    assert_eq!(res.status(), 303, "the lock ends the login");
    assert!(set_cookie(&res, "payd_session").is_none());
    assert_eq!(password_step(&app, "ann@example.com", PASSWORD).await.status(), 401, "locked");
    let log = actions(&app).await;
    let second = log.iter().filter(|(a, d)| a == "login.failed" && d == "second factor").count();
    assert_eq!(second, 7, "{log:?}");
    for (action, n) in [("totp.setup", 1), ("totp.enable", 1), ("login.password_ok", 4)] {
        assert_eq!(log.iter().filter(|(a, _)| a == action).count(), n, "{action}: {log:?}");
    }
    assert!(log.iter().any(|(a, d)| a == "session.login" && d == "with a TOTP code"));
}

async fn recovery_codes_work_once_and_totp_is_switched_off_with_the_password(app: TestApp) {
    let m = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Viewer, Some(&m.account_id)).await;
    // A viewer secures its own login too.
    let b = login(&app, "ann@example.com").await;
    let (secret, codes) = enable_totp(&app, &b).await;
    let c = challenge(&app, "ann@example.com").await;
    // Typed in capitals and without its hyphen, it still works, once.
    let typed = codes[0].replace('-', "").to_uppercase();
    let b2 = logged_in(&app, send_code(&app, &c, &typed).await).await;
    let (_, html) = get(&app, &b2, "/dashboard/account").await;
    assert!(text_of(&html, "totp-state").contains("9 unused recovery code(s)"), "{html}");
    let c = challenge(&app, "ann@example.com").await;
    assert_eq!(send_code(&app, &c, &codes[0]).await.status(), 401, "a used recovery code");
    logged_in(&app, send_code(&app, &c, &codes[1]).await).await;

    // Switching it off needs the password.
    let (status, _) =
        post(&app, &b2, "/dashboard/account/totp/disable", &[("password", "not the password")]).await;
    assert_eq!(status, 400);
    assert_eq!(post(&app, &b2, "/dashboard/account/totp/disable", &[]).await.0, 400);
    challenge(&app, "ann@example.com").await;
    let (status, _) = post(&app, &b2, "/dashboard/account/totp/disable", &[("password", PASSWORD)]).await;
    assert_eq!(status, 303);
    // The password alone logs in again; the old secret and codes are gone.
    login(&app, "ann@example.com").await;
    let (_, html) = get(&app, &b2, "/dashboard/account").await;
    assert!(text_of(&html, "totp-state").starts_with("Off"));
    assert!(!html.contains(&secret));
    let log = actions(&app).await;
    assert_eq!(log.iter().filter(|(a, d)| a == "session.login" && d == "with a recovery code").count(), 2);
    assert_eq!(log.iter().filter(|(a, _)| a == "totp.disable").count(), 1);
}

/// Creates an invitation from `b`'s users page: the invitation's token and id.
async fn invite(
    app: &TestApp,
    b: &Browser,
    email: &str,
    role: &str,
    account: Option<&AccountId>,
) -> (String, String) {
    let account = account.map(ToString::to_string).unwrap_or_default();
    let (status, html) =
        post(app, b, "/dashboard/invitations", &[("email", email), ("role", role), ("account", &account)])
            .await;
    assert_eq!(status, 201, "{html}");
    let link = text_of(&html, "invitation-link");
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert!(link.starts_with(&app.address) && token.len() == 64, "{link}");
    let (_, users) = get(app, b, "/dashboard/users").await;
    let at = users.find(&email.to_lowercase()).unwrap_or_else(|| panic!("{email} not listed: {users}"));
    let id =
        users[at..].split("/dashboard/invitations/").nth(1).map(|s| s.split('/').next().unwrap().to_owned());
    (token, id.unwrap_or_default())
}

/// The form token of an invitation's page (which must open).
async fn invite_form(app: &TestApp, token: &str) -> String {
    let page = app.client.get(app.url(&format!("/dashboard/invite/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    field(&page.text().await.unwrap(), "csrf")
}

async fn invite_status(app: &TestApp, token: &str) -> u16 {
    app.client.get(app.url(&format!("/dashboard/invite/{token}"))).send().await.unwrap().status().as_u16()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    let csrf = invite_form(app, token).await;
    post_accept(app, token, &csrf, password).await
}

async fn post_accept(app: &TestApp, token: &str, csrf: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/dashboard/invite/{token}")))
        .form(&[("password", password), ("csrf", csrf)])
        .send()
        .await
        .unwrap()
}

async fn an_invitation_is_accepted_once_and_never_when_expired_or_revoked(app: TestApp) {
    let m = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let ann = login(&app, "ann@example.com").await;
    let (token, _) = invite(&app, &ann, "Bob@Example.com", "viewer", None).await;
    let csrf = invite_form(&app, &token).await;
    // A password out of bounds, or a post without the page's form token, is refused; the
    // link still works.
    let long = "x".repeat(257);
    for p in ["short", long.as_str()] {
        assert_eq!(post_accept(&app, &token, &csrf, p).await.status(), 400);
    }
    assert_eq!(post_accept(&app, &token, "", "bob's long password").await.status(), 403);
    let res = post_accept(&app, &token, &csrf, "bob's long password").await;
    let bob = logged_in(&app, res).await;
    let (_, html) = get(&app, &bob, "/dashboard/payments").await;
    assert!(html.contains("bob@example.com (viewer)"), "{html}");
    // Used: the link opens nothing any more, not even with the form token it had.
    assert_eq!(invite_status(&app, &token).await, 404);
    assert_eq!(post_accept(&app, &token, &csrf, "another long password").await.status(), 404);
    // Revoked.
    let (revoked, id) = invite(&app, &ann, "cy@example.com", "admin", None).await;
    assert!(id.starts_with("inv_"), "{id}");
    let csrf = invite_form(&app, &revoked).await;
    assert_eq!(post(&app, &ann, &format!("/dashboard/invitations/{id}/revoke"), &[]).await.0, 303);
    assert_eq!(post_accept(&app, &revoked, &csrf, "cy's long password!").await.status(), 404);
    assert_eq!(invite_status(&app, &revoked).await, 404);
    assert_eq!(
        post(&app, &ann, &format!("/dashboard/invitations/{id}/revoke"), &[]).await.0,
        404,
        "revoked once"
    );
    // Expired: the page opened in time, the form posted after the 7 days.
    let (expired, _) = invite(&app, &ann, "dee@example.com", "viewer", None).await;
    let csrf = invite_form(&app, &expired).await;
    let past = payd_store::now().timestamp_millis() - 1;
    match &app.store {
        payd_store::Store::Sqlite(p, _) => {
            sqlx::query("UPDATE invitations SET expires_at = $1 WHERE email = 'dee@example.com'")
                .bind(past)
                .execute(p)
                .await
                .unwrap();
        }
        payd_store::Store::Postgres(p, _) => {
            sqlx::query("UPDATE invitations SET expires_at = $1 WHERE email = 'dee@example.com'")
                .bind(past)
                .execute(p)
                .await
                .unwrap();
        }
    }
    assert_eq!(post_accept(&app, &expired, &csrf, "dee's long password").await.status(), 404);
    assert_eq!(invite_status(&app, &expired).await, 404);
    assert!(app.store.user_by_email("dee@example.com").await.unwrap().is_none());
    // Malformed and made-up tokens: 404, never a 500.
    let made_up = ["x".to_owned(), "ab".repeat(32), "z".repeat(64), "a".repeat(5000)];
    for t in &made_up {
        assert_eq!(invite_status(&app, t).await, 404);
    }
    // An invitation for an email in use, or a bad role or email, is refused.
    for (email, role) in [
        ("bob@example.com", "viewer"),
        ("not-an-email", "viewer"),
        ("x@example.com", "owner"),
        ("x@example.com", "operator"),
    ] {
        let (status, _) =
            post(&app, &ann, "/dashboard/invitations", &[("email", email), ("role", role)]).await;
        assert!(status == 400 || status == 403, "{email} {role}: {status}");
    }
    // An operator invites another operator, and an admin to an account.
    user(&app, "op@example.com", Role::Operator, None).await;
    let op = login(&app, "op@example.com").await;
    let (t_op, _) = invite(&app, &op, "op2@example.com", "operator", None).await;
    let (t_admin, _) = invite(&app, &op, "eve@example.com", "admin", Some(&m.account_id)).await;
    assert_eq!(
        post(&app, &op, "/dashboard/invitations", &[("email", "f@example.com"), ("role", "admin")]).await.0,
        400,
        "no account"
    );
    logged_in(&app, accept(&app, &t_op, "op2's long password").await).await;
    logged_in(&app, accept(&app, &t_admin, "eve's long password").await).await;
    assert_eq!(app.store.user_by_email("op2@example.com").await.unwrap().unwrap().0.role, Role::Operator);
    let eve = app.store.user_by_email("eve@example.com").await.unwrap().unwrap().0;
    assert_eq!((eve.role, eve.account_id), (Role::Admin, Some(m.account_id.clone())));
    let log = actions(&app).await;
    for (action, n) in [("invitation.create", 5), ("invitation.accept", 3), ("invitation.revoke", 1)] {
        assert_eq!(log.iter().filter(|(a, _)| a == action).count(), n, "{action}: {log:?}");
    }
    assert_eq!(log.iter().filter(|(a, d)| a == "user.create" && d.contains("by invitation")).count(), 3);
}

async fn viewers_are_refused_and_nobody_reaches_another_accounts_users(app: TestApp) {
    let m = shop(&app, "Shop").await;
    let other = shop(&app, "Other").await;
    let ann_id = user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let val_id = user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    user(&app, "zed@example.com", Role::Admin, Some(&other.account_id)).await;
    let ann = login(&app, "ann@example.com").await;
    let (_, inv) = invite(&app, &ann, "bob@example.com", "viewer", None).await;
    let val = login(&app, "val@example.com").await;
    let (status, html) = get(&app, &val, "/dashboard/users").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("ann@example.com") && !html.contains("Invite someone") && !html.contains(">Remove<"),
        "{html}"
    );
    let posts = [
        "/dashboard/invitations".to_owned(),
        format!("/dashboard/invitations/{inv}/revoke"),
        format!("/dashboard/users/{ann_id}/remove"),
        format!("/dashboard/users/{ann_id}/unlock"),
    ];
    for path in &posts {
        let (status, _) = post(&app, &val, path, &[("email", "x@example.com"), ("role", "viewer")]).await;
        assert_eq!(status, 403, "{path}");
        // By hand, without the form token: refused as well.
        let res = app.client.post(app.url(path)).header("cookie", &val.cookie).send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    // Another account's admin neither sees nor changes this account's users or invitations.
    let zed = login(&app, "zed@example.com").await;
    let (_, html) = get(&app, &zed, "/dashboard/users").await;
    assert!(!html.contains("ann@example.com") && !html.contains("bob@example.com"), "{html}");
    for path in [
        format!("/dashboard/invitations/{inv}/revoke"),
        format!("/dashboard/users/{ann_id}/remove"),
        format!("/dashboard/users/{val_id}/unlock"),
        format!("/dashboard/users/{}/remove", UserId::new()),
        "/dashboard/users/not-an-id/remove".to_owned(),
        format!("/dashboard/users/{ann_id}/promote"),
        "/dashboard/invitations/inv_0000/revoke".to_owned(),
    ] {
        assert_eq!(post(&app, &zed, &path, &[]).await.0, 404, "{path}");
    }
    // An admin cannot invite into another account by naming it.
    let (status, _) = post(
        &app,
        &zed,
        "/dashboard/invitations",
        &[("email", "y@example.com"), ("role", "admin"), ("account", &m.account_id.to_string())],
    )
    .await;
    assert_eq!(status, 201);
    let y = app.store.pending_invitations(None, payd_store::now()).await.unwrap();
    let y = y.iter().find(|i| i.email == "y@example.com").unwrap();
    assert_eq!(y.account_id.as_ref(), Some(&other.account_id), "the admin's own account");
    assert!(app.store.user(&ann_id).await.unwrap().is_some());
    assert_eq!(app.store.pending_invitations(Some(&m.account_id), payd_store::now()).await.unwrap().len(), 1);
    let log = actions(&app).await;
    assert!(!log.iter().any(|(a, _)| a == "user.remove" || a == "invitation.revoke" || a == "user.unlock"));
}

async fn the_last_admin_stays_and_a_removed_users_sessions_end(app: TestApp) {
    let m = shop(&app, "Shop").await;
    let ann_id = user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let bea_id = user(&app, "bea@example.com", Role::Admin, Some(&m.account_id)).await;
    let ann = login(&app, "ann@example.com").await;
    let bea = login(&app, "bea@example.com").await;
    // Nobody removes themselves.
    assert_eq!(post(&app, &ann, &format!("/dashboard/users/{ann_id}/remove"), &[]).await.0, 400);
    // Ann removes Bea: Bea's session ends at once.
    assert_eq!(post(&app, &ann, &format!("/dashboard/users/{bea_id}/remove"), &[]).await.0, 303);
    assert_eq!(get(&app, &bea, "/dashboard/payments").await.0, 303);
    assert!(app.store.user(&bea_id).await.unwrap().is_none());
    // Ann is the last admin: an operator cannot remove her.
    user(&app, "op@example.com", Role::Operator, None).await;
    let op = login(&app, "op@example.com").await;
    let (_, html) = get(&app, &op, "/dashboard/users").await;
    assert!(html.contains("ann@example.com") && html.contains("op@example.com"), "an operator sees everyone");
    let (status, html) = post(&app, &op, &format!("/dashboard/users/{ann_id}/remove"), &[]).await;
    assert_eq!(status, 400);
    assert!(html.contains("last admin"), "{html}");
    assert_eq!(get(&app, &ann, "/dashboard/payments").await.0, 200);
    let log = app.store.audit_log(Some(&m.account_id), 100).await.unwrap();
    let removed: Vec<_> = log.iter().filter(|l| l.action == "user.remove").collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].target, bea_id.to_string());
    assert!(removed[0].detail.contains("bea@example.com"));
    // Bea's own lines stay, under her email.
    assert!(log
        .iter()
        .any(|l| l.action == "session.login" && l.actor == "bea@example.com" && l.user_id.is_none()));
}

async fn a_locked_user_is_unlocked_early_by_an_admin(app: TestApp) {
    let m = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let val_id = user(&app, "val@example.com", Role::Viewer, Some(&m.account_id)).await;
    for _ in 0..users::MAX_FAILURES {
        assert_eq!(password_step(&app, "val@example.com", "wrong password!").await.status(), 401);
    }
    assert_eq!(password_step(&app, "val@example.com", PASSWORD).await.status(), 401, "locked");
    let ann = login(&app, "ann@example.com").await;
    let (_, html) = get(&app, &ann, "/dashboard/users").await;
    assert!(html.contains(&format!("/dashboard/users/{val_id}/unlock")), "{html}");
    assert_eq!(post(&app, &ann, &format!("/dashboard/users/{val_id}/unlock"), &[]).await.0, 303);
    login(&app, "val@example.com").await;
    let log = actions(&app).await;
    assert_eq!(log.iter().filter(|(a, d)| a == "user.unlock" && d == "val@example.com").count(), 1);
}

async fn changing_the_password_ends_the_other_sessions(app: TestApp) {
    let m = shop(&app, "Shop").await;
    user(&app, "ann@example.com", Role::Viewer, Some(&m.account_id)).await;
    let phone = login(&app, "ann@example.com").await;
    let laptop = login(&app, "ann@example.com").await;
    let new = "a brand new password";
    let long = "x".repeat(257);
    for (current, next) in
        [("wrong password!", new), (PASSWORD, "short"), (PASSWORD, long.as_str()), ("", new)]
    {
        let (status, _) =
            post(&app, &laptop, "/dashboard/account/password", &[("current", current), ("new", next)]).await;
        assert_eq!(status, 400, "{current} {next:.10}");
    }
    assert_eq!(get(&app, &phone, "/dashboard/payments").await.0, 200, "nothing changed yet");
    let (status, html) =
        post(&app, &laptop, "/dashboard/account/password", &[("current", PASSWORD), ("new", new)]).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(get(&app, &phone, "/dashboard/payments").await.0, 303, "the other session ended");
    assert_eq!(get(&app, &laptop, "/dashboard/payments").await.0, 200, "this one stays");
    assert_eq!(password_step(&app, "ann@example.com", PASSWORD).await.status(), 401);
    logged_in(&app, password_step(&app, "ann@example.com", new).await).await;
    // Without the form token: refused.
    let res = app
        .client
        .post(app.url("/dashboard/account/password"))
        .header("cookie", &laptop.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let log = actions(&app).await;
    assert_eq!(log.iter().filter(|(a, _)| a == "user.password_change").count(), 1);
}

// ---- In a real browser (SQLite: the pages do not depend on the backend) ----

/// An admin switches TOTP on (the code computed from the secret the page shows), logs out,
/// logs in with password and code, invites a viewer who accepts in a second browser
/// context, in headless Chromium (tests/dashboard/access.mjs), with axe-core on every page
/// and screenshots at 360 and 1280 px under target/tmp/dashboard-access.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_switches_on_totp_and_invites_a_viewer_in_the_browser() {
    if !browser_ready(&["playwright-core", "@axe-core"], &[]) {
        return;
    }
    let app = spawn_app_with(payd_store::Backend::Sqlite, &[]).await.unwrap();
    let m = shop(&app, "Browser Shop").await;
    user(&app, "ann@example.com", Role::Admin, Some(&m.account_id)).await;
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-access");
    let params = json!({
        "url": app.address, "email": "ann@example.com", "password": PASSWORD,
        "invitee": "vic@example.com", "inviteePassword": "vic's long password",
        "shots": shots.to_string_lossy(),
    });
    run_browser_script("crates/payd-server/tests/dashboard/access.mjs", &[params.to_string()]);
    let vic = app.store.user_by_email("vic@example.com").await.unwrap().unwrap().0;
    assert_eq!((vic.role, vic.account_id), (Role::Viewer, Some(m.account_id.clone())));
    assert!(
        app.store
            .totp(&app.store.user_by_email("ann@example.com").await.unwrap().unwrap().0.id)
            .await
            .unwrap()
            .unwrap()
            .enabled
    );
    for name in ["account", "totp-setup", "recovery-codes", "login-code", "users", "invitation", "accept"] {
        for width in [360, 1280] {
            assert!(shots.join(format!("{name}-{width}.png")).exists(), "{name}-{width}.png");
        }
    }
}
