// The "IoT gateway" sidebar tab: for each gateway-config, live from the runtime (comms topic
// iot-gateway/gateway/<id>, at most twice a second; GET gateway-config/sidebar for the first
// paint): state and server, since when, reconnects, devices, what waits, rates, the rate budget,
// open RPCs, the last errors of its nodes (a click reveals the node), and the status of every
// node using it. Redrawn at most four times a second, and once a second for the ages.
// Other scripts add a section below the gateways: IotGatewaySidebar.addSection({id, title, content})
// (or, before this script ran, push a function(sidebar) to window.IotGatewaySidebarQueue); the
// sections live in the element #iotgw-sidebar-sections.
(function () {
  "use strict";
  if (window.IotGatewaySidebar) return;
  var statuses = {};
  var live = {}; // gateway id → {snap, at (local ms when received)}
  var open = {}; // "<gateway>/<part>" → true when expanded
  var content, list, sections;
  var timer;
  var REDRAW_MS = 250;
  var RESYNC_MS = 20000; // also tells the runtime that an editor is still open (Node-RED 3.1 does not)
  var DEVICES_LISTED = 10;
  var PENDING = [];

  function t(key, opts) {
    return RED._("node-red-contrib-iot-gateway/gateway-config:gateway-config.sidebar." + key, opts);
  }

  function labelOf(n) {
    var def = n._def || RED.nodes.getType(n.type);
    try {
      return (def && typeof def.label === "function" ? def.label.call(n) : def && def.label) || n.name || n.type;
    } catch (e) {
      return n.name || n.type;
    }
  }

  var FILL = { red: "#c00", green: "#5a8", yellow: "#F9DF31", blue: "#53A3F3", grey: "#d3d3d3" };
  function dot(status) {
    var fill = FILL[status && status.fill] || "transparent";
    var ring = status && status.shape === "ring";
    return $('<span class="iotgw-dot">').css({
      display: "inline-block", width: "9px", height: "9px", "border-radius": "50%", "margin-right": "6px",
      background: ring ? "transparent" : fill, border: "2px solid " + (status && status.fill ? fill : "#aaa")
    });
  }

  function num(n, digits) {
    return Number(n || 0).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
  }
  function age(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }
  function bytes(n) {
    if (n < 1024) return Math.round(n) + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }
  function clock(ms) {
    return new Date(ms).toLocaleTimeString();
  }

  /** ms since a runtime time, counted on from when the snapshot came */
  function since(entry, at) {
    return entry.snap.now - at + (Date.now() - entry.at);
  }

  /** "4,210 waiting · 1.2 MiB · oldest 3 min · cap in 2 h (in memory)" */
  function waitingText(st) {
    var parts = [t("waiting", { n: num(st.waiting) })];
    if (typeof st.bytes === "number" && st.bytes > 0) parts.push(bytes(st.bytes));
    if (typeof st.oldestAgeMs === "number" && st.waiting > 0) parts.push(t("oldest", { age: age(st.oldestAgeMs) }));
    if (typeof st.fullInMs === "number" && st.waiting > 0) parts.push(t("full-in", { time: age(st.fullInMs) }));
    return parts.join(" · ") + " (" + (st.store === "disk" ? t("store-disk") : t("store-memory")) + ")";
  }

  function stateText(s) {
    if (s.state === "connected") return t("state-connected");
    var word = s.state === "connecting" ? t("state-connecting") : t("state-disconnected");
    return s.reason ? word + ": " + s.reason : word;
  }
  var STATE_DOT = { connected: { fill: "green", shape: "dot" }, connecting: { fill: "yellow", shape: "ring" }, disconnected: { fill: "red", shape: "ring" } };

  function counterName(c) {
    return c === "messages" ? t("counter-messages") : c === "telemetryMessages" ? t("counter-telemetry") : t("counter-points");
  }
  function inUse(b) {
    return Math.max(0, b.capacity - b.tokens) / b.capacity;
  }
  function budgetText(b) {
    var who = b.entity === "own" ? t("budget-gateway") : t("budget-devices");
    var what = counterName(b.counter);
    return t("budget-band", { who: who, what: what, pct: Math.round(inUse(b) * 100), used: num(b.capacity - b.tokens), cap: num(b.capacity), s: b.seconds });
  }

  function line(cls, text) {
    return $('<div>').addClass(cls).text(text);
  }

  /** A part of a gateway's box with a header that opens and closes it. */
  function part(box, gw, name, title, startOpen) {
    var key = gw + "/" + name;
    if (!(key in open)) open[key] = !!startOpen;
    var wrap = $('<div>').addClass("iotgw-part iotgw-" + name).attr("data-open", open[key] ? "1" : "0").appendTo(box);
    var head = $('<div class="iotgw-part-head">').css({ cursor: "pointer", "margin-top": "4px" }).appendTo(wrap);
    $('<i class="fa">').addClass(open[key] ? "fa-caret-down" : "fa-caret-right").css({ width: "12px" }).appendTo(head);
    $('<span class="iotgw-part-title">').text(title).appendTo(head);
    var body = $('<div class="iotgw-part-body">').css({ "padding-left": "12px" }).toggle(open[key]).appendTo(wrap);
    head.on("click", function () { open[key] = !open[key]; render(); });
    return body;
  }

  var MUTED = { "font-size": "0.9em", color: "var(--red-ui-secondary-text-color, #888)" };

  function renderLive(box, gw, entry, users) {
    var snap = entry.snap;
    var s = snap.session;
    if (snap.problem) line("iotgw-problem", snap.problem).css({ color: "#c00" }).appendTo(box);
    if (s) {
      var when = { time: clock(s.since), age: age(since(entry, s.since)) };
      line("iotgw-since", (s.state.state === "connected" ? t("connected-since", when) : t("down-since", when)) +
        " · " + t("reconnects", { n: num(s.reconnects) })).css(MUTED).appendTo(box);
      if (s.waiting) line("iotgw-waiting", waitingText(s.waiting)).appendTo(box);
      var r = s.rates;
      line("iotgw-rates", t("rates", { msgsIn: num(r.msgsIn, 1), pointsIn: num(r.pointsIn, 1), msgsOut: num(r.msgsOut, 1), pubOut: num(r.publishesOut, 1), bytesOut: bytes(r.bytesOut) })).appendTo(box);
      if (s.budget.length > 0) {
        // the fullest band first: it is the one that holds publishes back
        var bands = s.budget.slice().sort(function (a, b) { return inUse(b) - inUse(a); });
        var budget = part(box, gw.id, "budget", t("budget", { pct: Math.round(inUse(bands[0]) * 100), n: bands.length }), false);
        bands.forEach(function (b) { line("iotgw-band", budgetText(b)).css(MUTED).appendTo(budget); });
      }
      var rpcs = s.rpcs.oldest
        ? t("rpcs-oldest", { n: num(s.rpcs.open), method: s.rpcs.oldest.method, device: s.rpcs.oldest.device === undefined ? t("the-gateway") : s.rpcs.oldest.device, age: age(since(entry, s.rpcs.oldest.at)) })
        : t("rpcs", { n: num(s.rpcs.open) });
      line("iotgw-rpcs", rpcs).appendTo(box);
      var devices = part(box, gw.id, "devices", t("devices", { n: num(s.devices.total) }), true);
      var ul = $('<ul class="iotgw-device-list">').css({ "list-style": "none", margin: 0, padding: 0 }).appendTo(devices);
      var all = open[gw.id + "/all-devices"];
      s.devices.shown.slice(0, all ? s.devices.shown.length : DEVICES_LISTED).forEach(function (d) {
        var li = $('<li class="iotgw-device">').attr("data-device", d.name).css({ padding: "2px 0" }).appendTo(ul);
        $('<span class="iotgw-device-name">').css({ "font-weight": "bold" }).text(d.name).appendTo(li);
        var facts = [d.profile ? t("profile", { profile: d.profile }) : "", d.announced ? t("announced") : t("not-announced"),
          d.lastUplinkAt ? t("last-uplink", { age: age(since(entry, d.lastUplinkAt)) }) : ""].filter(Boolean);
        $('<span class="iotgw-device-facts">').css(MUTED).css({ "margin-left": "6px" }).text(facts.join(" · ")).appendTo(li);
        if (d.lastError) $('<div class="iotgw-device-error">').css({ color: "#c00", "font-size": "0.9em" })
          .text(t("last-error", { age: age(since(entry, d.lastError.at)), message: d.lastError.message })).appendTo(li);
      });
      var listed = all ? s.devices.shown.length : Math.min(DEVICES_LISTED, s.devices.shown.length);
      var more = s.devices.total - listed;
      if (more > 0) {
        // a click lists what the runtime sent (the most recent 50); beyond that, the count
        var m = line("iotgw-devices-more", t("more-devices", { n: num(more) })).css(MUTED).appendTo(devices);
        if (!all && s.devices.shown.length > listed) m.css({ cursor: "pointer", "text-decoration": "underline" }).on("click", function () { open[gw.id + "/all-devices"] = true; render(); });
      }
    }
    if (snap.errors.length > 0) {
      var errs = part(box, gw.id, "errors", t("errors", { n: snap.errors.length }), true);
      snap.errors.slice().reverse().forEach(function (e) {
        var target = e.node.alias || e.node.id;
        var n = RED.nodes.node(target);
        var li = $('<div class="iotgw-error">').attr("data-node", target).attr("data-level", e.level)
          .css({ cursor: "pointer", padding: "2px 0", color: e.level === "warn" ? "#b67d00" : "#c00" }).appendTo(errs);
        $('<span class="iotgw-error-age">').css(MUTED).text(age(since(entry, e.at)) + " ").appendTo(li);
        $('<span class="iotgw-error-node">').css({ "font-weight": "bold" }).text(n ? labelOf(n) : e.node.name || e.node.type || e.node.id).appendTo(li);
        $('<span class="iotgw-error-message">').text(": " + e.message).appendTo(li);
        li.on("click", function () { RED.view.reveal(target); });
      });
    }
    renderUsers(box, gw, users);
  }

  function renderUsers(box, gw, users) {
    var body = part(box, gw.id, "nodes", t("nodes", { n: users.length }), true);
    var ul = $('<ul class="iotgw-users">').css({ "list-style": "none", margin: 0, padding: 0 }).appendTo(body);
    if (users.length === 0) $('<li>').text(t("unused")).appendTo(ul);
    users.forEach(function (u) {
      var s = statuses[u.id];
      var li = $('<li class="iotgw-user">').attr("data-node", u.id).css({ padding: "2px 0", cursor: "pointer" }).appendTo(ul);
      li.append(dot(s)).append($('<span class="iotgw-user-label">').text(labelOf(u)));
      $('<span class="iotgw-user-status">').css(MUTED).css({ "margin-left": "8px" }).text(s && s.text ? s.text : "").appendTo(li);
      li.on("click", function () { RED.view.reveal(u.id); });
    });
  }

  function render() {
    timer = undefined;
    // a hidden tab is drawn when it is shown again
    if (!list || !content.is(":visible")) return;
    var scroll = content.scrollTop();
    list.empty();
    var gateways = [];
    RED.nodes.eachConfig(function (n) { if (n.type === "gateway-config") gateways.push(n); });
    if (gateways.length === 0) {
      $('<p class="iotgw-empty">').css({ padding: "10px" }).css(MUTED).text(t("none")).appendTo(list);
      return;
    }
    gateways.forEach(function (gw) {
      var users = [];
      RED.nodes.eachNode(function (n) { if (n.gateway === gw.id && !n.d) users.push(n); });
      var entry = live[gw.id];
      var s = entry && entry.snap.session;
      var box = $('<div class="iotgw-gateway">').attr("data-gateway", gw.id).css({ padding: "8px 10px", "border-bottom": "1px solid var(--red-ui-secondary-border-color, #ddd)" }).appendTo(list);
      // without a live session, the state is what its nodes show: the first one that shows anything
      var shown = s ? $.extend({ text: stateText(s.state) }, STATE_DOT[s.state.state]) : users.map(function (u) { return statuses[u.id]; }).filter(function (st) { return st && st.text; })[0];
      $('<div class="iotgw-head">').css({ "font-weight": "bold" }).append(dot(shown)).append($('<span class="iotgw-name">').text(labelOf(gw))).appendTo(box);
      line("iotgw-server", (entry ? entry.snap.platform + " · " + entry.snap.server : (gw.platform || "thingsboard") + " · " + (gw.url || ""))).css(MUTED).appendTo(box);
      line("iotgw-state", shown ? shown.text : t("no-status")).appendTo(box);
      if (entry) renderLive(box, gw, entry, users);
      else renderUsers(box, gw, users);
    });
    content.scrollTop(scroll);
  }

  function schedule() {
    if (timer === undefined) timer = setTimeout(render, REDRAW_MS);
  }

  function take(id, snap) {
    if (snap && typeof snap === "object" && snap.id === id) live[id] = { snap: snap, at: Date.now() };
  }

  /** The first paint (and a resync now and then): every gateway's snapshot at once. */
  function fetchAll() {
    $.getJSON("gateway-config/sidebar").done(function (r) {
      live = {};
      Object.keys((r && r.gateways) || {}).forEach(function (id) { take(id, r.gateways[id]); });
      schedule();
    });
  }

  function addSection(opts) {
    if (!sections) return PENDING.push(opts);
    var el = $('<div class="iotgw-section">').attr("id", opts.id).css({ padding: "8px 10px", "border-bottom": "1px solid var(--red-ui-secondary-border-color, #ddd)" }).appendTo(sections);
    if (opts.title) $('<div class="iotgw-section-title">').css({ "font-weight": "bold" }).text(opts.title).appendTo(el);
    if (opts.content) el.append(opts.content);
    return el;
  }

  window.IotGatewaySidebar = {
    init: function () {
      if (content) return;
      content = $('<div class="iotgw-sidebar">').css({ position: "relative", height: "100%", overflow: "auto" });
      list = $('<div id="iotgw-sidebar-gateways">').appendTo(content);
      sections = $('<div id="iotgw-sidebar-sections">').appendTo(content);
      RED.sidebar.addTab({
        id: "iot-gateway",
        label: t("label"),
        name: t("name"),
        iconClass: "fa fa-cloud",
        content: content,
        enableOnEdit: true,
        onchange: function () { setTimeout(render, 0); }
      });
      RED.comms.subscribe("status/#", function (topic, msg) {
        statuses[topic.slice("status/".length)] = msg;
        schedule();
      });
      RED.comms.subscribe("iot-gateway/gateway/+", function (topic, msg) {
        take(topic.slice("iot-gateway/gateway/".length), msg);
        schedule();
      });
      ["nodes:add", "nodes:remove", "nodes:change", "runtime-state"].forEach(function (e) { RED.events.on(e, schedule); });
      RED.events.on("deploy", function () { schedule(); setTimeout(fetchAll, 1000); });
      setInterval(schedule, 1000); // the ages count on
      setInterval(fetchAll, RESYNC_MS);
      fetchAll();
      PENDING.splice(0).forEach(addSection);
      (window.IotGatewaySidebarQueue || []).splice(0).forEach(function (fn) { fn(window.IotGatewaySidebar); });
      window.IotGatewaySidebarQueue = { push: function (fn) { fn(window.IotGatewaySidebar); } };
    },
    /** Adds a section below the gateways: {id, title, content (element or jQuery)}; returns its element. */
    addSection: addSection,
    /** for tests: redraw now */
    render: render
  };
})();
