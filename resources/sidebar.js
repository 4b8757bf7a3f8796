// The "IoT gateway" sidebar tab: for each gateway-config, its platform and server and, live, the
// status every node using it shows (Node-RED's own status messages over its comms, so it needs
// nothing of the runtime yet). Redrawn at most four times a second however often statuses come.
// The runtime's session figures (devices, waiting msgs, rates) are to come from an admin endpoint
// of gateway-config; until then the statuses say what the session says.
(function () {
  "use strict";
  if (window.IotGatewaySidebar) return;
  var statuses = {};
  var content;
  var timer;
  var REDRAW_MS = 250;

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

  function schedule() {
    if (timer === undefined) timer = setTimeout(render, REDRAW_MS);
  }

  window.IotGatewaySidebar = {
    init: function () {
      if (content) return;
      content = $('<div class="iotgw-sidebar">').css({ position: "relative", height: "100%", overflow: "auto" });
      RED.sidebar.addTab({
        id: "iot-gateway",
        label: t("label"),
        name: t("name"),
        iconClass: "fa fa-cloud",
        content: content,
        enableOnEdit: true
      });
      RED.comms.subscribe("status/#", function (topic, msg) {
        statuses[topic.slice("status/".length)] = msg;
        schedule();
      });
      ["nodes:add", "nodes:remove", "nodes:change", "deploy", "runtime-state"].forEach(function (e) { RED.events.on(e, schedule); });
      schedule();
    },
    /** for tests: the figures as shown */
    render: render
  };
})();
