// payd dashboard: follows an open payment page (status, amounts received, transfers with
// their confirmations) by asking its JSON every few seconds. Without script the page shows
// the state it was loaded with; a reload shows the new one. No dependency.
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-live");
  var every = 3000;
  var last = null;

  function byId(id) { return document.getElementById(id); }
  function say(text) { var n = byId("live-note"); if (n) n.textContent = text; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function status(p) {
    var dd = byId("live-status");
    if (!dd) return;
    dd.textContent = "";
    dd.appendChild(el("span", "tag " + p.status, p.status));
    p.flags.forEach(function (f) {
      dd.appendChild(document.createTextNode(" "));
      dd.appendChild(el("span", "tag flag", f));
    });
  }

  function transfers(list) {
    var box = byId("live-transfers");
    if (!box) return;
    box.textContent = "";
    if (!list.length) { box.appendChild(el("p", "", "No transfer seen yet.")); return; }
    var wrap = el("div", "scroll");
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Transfers table");
    var table = el("table"), head = el("tr"), body = el("tbody");
    ["Transaction", "Amount", "Block", "Confirmations", "State"].forEach(function (h) {
      var th = el("th", "", h);
      th.scope = "col";
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    list.forEach(function (t) {
      var tr = el("tr"), tx = el("td", "mono");
      if (t.tx_href) {
        var a = el("a", "", t.tx_hash);
        a.href = t.tx_href;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        tx.appendChild(a);
      } else {
        tx.textContent = t.tx_hash;
      }
      tr.appendChild(tx);
      tr.appendChild(el("td", "num", t.amount));
      tr.appendChild(el("td", "num", String(t.block)));
      tr.appendChild(el("td", "num", String(t.confirmations)));
      tr.appendChild(el("td", "", t.state));
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    box.appendChild(wrap);
  }

  function show(p) {
    status(p);
    var c = byId("live-confirmed"), q = byId("live-pending");
    if (c) c.textContent = p.received_confirmed;
    if (q) q.textContent = p.received_pending;
    transfers(p.transfers);
  }

  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw r.status;
        return r.json();
      })
      .then(function (p) {
        var key = JSON.stringify(p);
        if (key !== last) {
          show(p);
          last = key;
        }
        say("Following this payment: updated " + new Date().toLocaleTimeString() + ".");
        setTimeout(tick, every);
      })
      .catch(function (s) {
        if (s === 401 || s === 404) { say("Live updates stopped (session ended?): reload the page."); return; }
        setTimeout(tick, every * 2);
      });
  }
  tick();
})();
