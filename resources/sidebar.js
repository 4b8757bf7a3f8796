// The "IoT gateway" sidebar tab: for each gateway-config, its platform and server, live the status
// every node using it shows (Node-RED's own status messages over its comms), and what waits in
// its outbox (GET gateway-config/stats, asked every second while the tab is shown). Redrawn at
// most four times a second however often statuses come.
(function () {
  "use strict";
  if (window.IotGatewaySidebar) return;
  var statuses = {};
  var content;
  var timer;
  var REDRAW_MS = 250;
  var POLL_MS = 1000;
  var stats = {};

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

  function dot(status) {
    var fill = { red: "#c00", green: "#5a8", yellow: "#F9DF31", blue: "#53A3F3", grey: "#d3d3d3" }[status && status.fill] || "transparent";
    var ring = status && status.shape === "ring";
    return $('<span class="iotgw-dot">').css({
      display: "inline-block", width: "9px", height: "9px", "border-radius": "50%", "margin-right": "6px",
      background: ring ? "transparent" : fill, border: "2px solid " + (status && status.fill ? fill : "#aaa")
    });
  }

  function render() {
    timer = undefined;
    if (!content) return;
    content.empty();
    var gateways = [];
    RED.nodes.eachConfig(function (n) { if (n.type === "gateway-config") gateways.push(n); });
    if (gateways.length === 0) {
      $('<p class="iotgw-empty">').css({ padding: "10px", color: "var(--red-ui-secondary-text-color, #888)" }).text(t("none")).appendTo(content);
      return;
    }
    gateways.forEach(function (gw) {
      var users = [];
      RED.nodes.eachNode(function (n) { if (n.gateway === gw.id && !n.d) users.push(n); });
      var box = $('<div class="iotgw-gateway">').attr("data-gateway", gw.id).css({ padding: "8px 10px", "border-bottom": "1px solid var(--red-ui-secondary-border-color, #ddd)" }).appendTo(content);
      var head = $('<div class="iotgw-head">').css({ "font-weight": "bold" }).appendTo(box);
      // the session's state is what its nodes show: the first one that shows anything
      var shown = users.map(function (u) { return statuses[u.id]; }).filter(function (s) { return s && s.text; })[0];
      head.append(dot(shown)).append($('<span class="iotgw-name">').text(labelOf(gw)));
      $('<div class="iotgw-server">').css({ "font-size": "0.9em", color: "var(--red-ui-secondary-text-color, #888)" })
        .text((gw.platform || "thingsboard") + " · " + (gw.url || "")).appendTo(box);
      $('<div class="iotgw-state">').text(shown ? shown.text : t("no-status")).appendTo(box);
      if (stats[gw.id]) $('<div class="iotgw-waiting">').text(waitingText(stats[gw.id])).appendTo(box);
      var list = $('<ul class="iotgw-users">').css({ "list-style": "none", margin: "4px 0 0 0", padding: 0 }).appendTo(box);
      if (users.length === 0) $('<li>').text(t("unused")).appendTo(list);
      users.forEach(function (u) {
        var s = statuses[u.id];
        var li = $('<li class="iotgw-user">').attr("data-node", u.id).css({ padding: "2px 0", cursor: "pointer" }).appendTo(list);
        li.append(dot(s)).append($('<span class="iotgw-user-label">').text(labelOf(u)));
        $('<span class="iotgw-user-status">').css({ "margin-left": "8px", color: "var(--red-ui-secondary-text-color, #888)" }).text(s && s.text ? s.text : "").appendTo(li);
        li.on("click", function () { RED.view.reveal(u.id); });
      });
    });
  }

  function age(ms) {
    var s = Math.round(ms / 1000);
    if (s < 120) return s + " s";
    if (s < 7200) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  function bytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }

  /** "4,210 waiting · 1.2 MiB · oldest 3 min · cap in 2 h (disk)" */
  function waitingText(st) {
    var parts = [t("waiting", { n: Number(st.waiting || 0).toLocaleString("en-US") })];
    if (typeof st.bytes === "number" && st.bytes > 0) parts.push(bytes(st.bytes));
    if (typeof st.oldestAgeMs === "number" && st.waiting > 0) parts.push(t("oldest", { age: age(st.oldestAgeMs) }));
    if (typeof st.fullInMs === "number") parts.push(t("full-in", { time: age(st.fullInMs) }));
    return parts.join(" · ") + " (" + (st.store === "disk" ? t("store-disk") : t("store-memory")) + ")";
  }

  function poll() {
    if (!content || !content.is(":visible")) return setTimeout(poll, POLL_MS);
    $.getJSON("gateway-config/stats")
      .done(function (s) { stats = s || {}; schedule(); })
      .always(function () { setTimeout(poll, POLL_MS); });
  }

  function schedule() {
    if (timer === undefined) timer = setTimeout(render, REDRAW_MS);
  }

  window.IotGatewaySidebar = {
    init: function () {
      if (content) return;
      content = $('<div class="iotgw-sidebar">');
      // #iotgw-sidebar-sections: where other sections of the tab mount (resources/test-platform.js); render() leaves it alone
      var tab = $('<div class="iotgw-sidebar-tab">').css({ position: "relative", height: "100%", overflow: "auto" }).append(content).append($('<div id="iotgw-sidebar-sections">'));
      RED.sidebar.addTab({
        id: "iot-gateway",
        label: t("label"),
        name: t("name"),
        iconClass: "fa fa-cloud",
        content: tab,
        enableOnEdit: true
      });
      RED.comms.subscribe("status/#", function (topic, msg) {
        statuses[topic.slice("status/".length)] = msg;
        schedule();
      });
      ["nodes:add", "nodes:remove", "nodes:change", "deploy", "runtime-state"].forEach(function (e) { RED.events.on(e, schedule); });
      schedule();
      poll();
    },
    /** for tests: the figures as shown */
    render: render
  };
})();
