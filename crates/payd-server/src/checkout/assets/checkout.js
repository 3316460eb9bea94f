// payd checkout: copy buttons, the countdown, live status (server-sent events) with a
// postMessage to an embedding page, the redirect after payment, and the browser-wallet
// button (EIP-6963 discovery, window.ethereum fallback, EIP-1193 requests). No dependency.
(function () {
  "use strict";
  var body = document.body;
  var page = document.getElementById("page");

  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (!b) return;
    var done = function () {
      var label = b.textContent;
      b.textContent = b.getAttribute("data-copied");
      setTimeout(function () { b.textContent = label; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(b.getAttribute("data-copy")).then(done, function () {});
    }
  });

  // The test-mode simulate buttons post in the background, so the page stays and shows the
  // money arrive through the live stream (without JavaScript the form posts and comes back).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.classList.contains("simulate") || !window.fetch || !window.URLSearchParams) return;
    e.preventDefault();
    var data = new URLSearchParams(new FormData(f));
    if (e.submitter && e.submitter.name) data.set(e.submitter.name, e.submitter.value);
    var buttons = f.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    var again = function () { buttons.forEach(function (b) { b.disabled = false; }); };
    fetch(f.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" }).then(again, again);
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var el = document.getElementById("countdown");
    if (!el) return;
    var s = Math.max(0, Math.floor(Number(el.getAttribute("data-expires")) - Date.now() / 1000));
    // page::clock's rule: days and hours while a day or more remains.
    if (s >= 86400) {
      el.textContent = el.getAttribute("data-days").replace("{0}", Math.floor(s / 86400)).replace("{1}", Math.floor((s % 86400) / 3600));
      return;
    }
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    el.textContent = (h > 0 ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }
  setInterval(tick, 1000);
  tick();

  var redirectTimer = null;
  function settle() {
    var r = document.getElementById("redirect");
    if (r && redirectTimer === null) {
      var url = r.getAttribute("data-url");
      redirectTimer = setTimeout(function () { window.location.assign(url); }, Number(r.getAttribute("data-after")) * 1000);
    }
    wallet();
  }

  function tell(stage) {
    if (window.parent !== window) {
      // Only the stage: nothing here is secret, and the embedding shop may be any origin.
      window.parent.postMessage({ source: "payd-checkout", stage: stage }, "*");
    }
  }

  var url = body.getAttribute("data-events");
  if (url && window.EventSource) {
    var es = new EventSource(url);
    es.addEventListener("state", function (ev) {
      var d = JSON.parse(ev.data);
      var focused = document.activeElement && document.activeElement.id;
      page.innerHTML = d.html;
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      if (body.getAttribute("data-stage") !== d.stage) tell(d.stage);
      body.setAttribute("data-stage", d.stage);
      tick();
      settle();
      if (!d.live) es.close();
    });
  }
  tell(body.getAttribute("data-stage"));

  // Browser wallet: the providers announced under EIP-6963, else window.ethereum.
  var providers = [];
  window.addEventListener("eip6963:announceProvider", function (e) {
    if (e.detail && e.detail.provider) { providers.push(e.detail.provider); wallet(); }
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));

  function provider() { return providers[0] || window.ethereum || null; }
  function word(hex) { hex = hex.replace(/^0x/, "").toLowerCase(); return "0".repeat(64 - hex.length) + hex; }

  function wallet() {
    var b = document.getElementById("browser-wallet");
    if (!b || !provider()) return;
    b.hidden = false;
    if (b.getAttribute("data-bound")) return;
    b.setAttribute("data-bound", "1");
    b.addEventListener("click", function () {
      var p = provider(), chain = b.getAttribute("data-chain");
      b.disabled = true;
      p.request({ method: "eth_requestAccounts" }).then(function (accounts) {
        return p.request({ method: "eth_chainId" }).then(function (current) {
          if (String(current).toLowerCase() === chain) return accounts;
          return p.request({ method: "wallet_switchEthereumChain", params: [{ chainId: chain }] }).then(function () { return accounts; });
        });
      }).then(function (accounts) {
        // ERC-20 transfer(address,uint256): selector a9059cbb, then both arguments as 32-byte words.
        var data = "0xa9059cbb" + word(b.getAttribute("data-to")) + word(b.getAttribute("data-amount"));
        return p.request({ method: "eth_sendTransaction", params: [{ from: accounts[0], to: b.getAttribute("data-contract"), data: data, value: "0x0" }] });
      }).then(function () { b.disabled = false; }, function () { b.disabled = false; });
    });
  }
  settle();
})();
