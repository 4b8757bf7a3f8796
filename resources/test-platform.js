// The "Test platform" section of the "IoT gateway" sidebar tab: start a ThingsBoard, ThingsPanel or
// Watson IoT emulator inside this Node-RED (admin API iot-gateway/test-platform, see
// nodes/common/test-platform-routes.ts), point a gateway-config at it with one click (an edit the
// user deploys, undoable), see its devices with their latest data, send an RPC, an attribute change
// or a command and read the answer. Mounted into #iotgw-sidebar-sections, which sidebar.js provides;
// without it (an older sidebar.js) the section gets a tab of its own.
(function () {
  "use strict";
  if (window.IotGatewayTestPlatform) return;
  var NS = "node-red-contrib-iot-gateway/test-platform:test-platform.";
  var API = "iot-gateway/test-platform";
  var POLL_MS = 2000;
  var NAMES = { thingsboard: "ThingsBoard", thingspanel: "ThingsPanel", watson: "Watson IoT", modbus: "Modbus TCP" };
  /** the Modbus simulator takes the Modbus example's port unless told otherwise */
  var MODBUS_PORT = 5020;
  var section;
  var boxes = {};
  var polling = false;

  function t(key, opts) {
    return RED._(NS + key, opts);
  }

  function errorText(xhr) {
    var b = xhr && xhr.responseJSON;
    if (b && b.code) {
      var text = t("errors." + b.code, b.params || {});
      return text === NS + "errors." + b.code ? b.message || b.code : text;
    }
    return (xhr && (xhr.responseText || xhr.statusText)) || "error";
  }

  function call(method, url, body) {
    return $.ajax({ method: method, url: url, contentType: "application/json", data: body === undefined ? undefined : JSON.stringify(body), dataType: "json", cache: false });
  }

  function short(v) {
    var s = typeof v === "string" ? v : JSON.stringify(v);
    return s && s.length > 120 ? s.slice(0, 117) + "…" : s;
  }

  function muted() {
    return { color: "var(--red-ui-secondary-text-color, #888)", "font-size": "0.9em" };
  }

  function configs() {
    var list = [];
    RED.nodes.eachConfig(function (n) { if (n.type === "gateway-config") list.push(n); });
    return list;
  }

  function labelOf(n) {
    return n.name || (n._def && typeof n._def.label === "function" ? n._def.label.call(n) : "") || n.id;
  }

  /** Points the gateway-config at the platform: an edit like the dialog's, undone by Ctrl-Z, deployed by the user. */
  function useIt(info, id) {
    var node = RED.nodes.node(id);
    if (!node) return;
    var use = info.use;
    // a gateway-config that provisions itself keeps doing so, with the platform's key and secret
    var provision = node.auth === "provision" && use.provisionKey !== undefined;
    var props = { platform: use.platform, url: use.url, auth: provision ? "provision" : "token" };
    if (provision && !$.trim(node.provisionDevice || "")) props.provisionDevice = "Test gateway";
    ["deviceNumber", "watsonOrg", "watsonType", "watsonId"].forEach(function (k) { if (use[k] !== undefined) props[k] = use[k]; });
    var changes = {};
    Object.keys(props).forEach(function (k) {
      if (node[k] !== props[k]) {
        changes[k] = node[k];
        node[k] = props[k];
      }
    });
    changes.credentials = node.credentials ? $.extend(true, {}, node.credentials) : undefined;
    node.credentials = $.extend({}, node.credentials || {}, provision
      ? { provisionKey: use.provisionKey, has_provisionKey: true, provisionSecret: use.provisionSecret, has_provisionSecret: true }
      : { token: use.token, has_token: true });
    var wasChanged = node.changed;
    var wasDirty = RED.nodes.dirty();
    node.changed = true;
    node.dirty = true;
    RED.history.push({ t: "edit", node: node, changes: changes, dirty: wasDirty, changed: wasChanged });
    RED.nodes.dirty(true);
    if (RED.editor && RED.editor.validateNode) {
      RED.editor.validateNode(node);
      RED.nodes.eachNode(function (n) { if (n.gateway === id) { n.dirty = true; RED.editor.validateNode(n); } });
    }
    RED.events.emit("nodes:change", node);
    RED.view.redraw(true);
    return labelOf(node);
  }

  function actionLabel(platform, action) {
    if (action === "attributes") return platform === "thingsboard" ? t("ui.attributes") : t("ui.attributes-set");
    if (action === "device-action") return t("ui.device-action");
    return t("ui." + action);
  }

  function fillConfigs(select) {
    var current = select.val();
    var list = configs();
    var key = list.map(function (n) { return n.id + "=" + labelOf(n); }).join("|");
    if (select.data("key") === key) return;
    select.data("key", key).empty();
    list.forEach(function (n) { $("<option>").val(n.id).text(labelOf(n) + " (" + (NAMES[n.platform] || n.platform || "") + ")").appendTo(select); });
    if (current && list.some(function (n) { return n.id === current; })) select.val(current);
  }

  function buildBox(info) {
    var box = $('<div class="iotgw-tp-platform">').attr("data-platform-id", info.id).css({ padding: "6px 0", "border-top": "1px dashed var(--red-ui-secondary-border-color, #ddd)" });
    var head = $("<div>").appendTo(box);
    $('<span class="iotgw-tp-name">').css({ "font-weight": "bold" }).text(NAMES[info.platform] || info.platform).appendTo(head);
    $('<span class="iotgw-tp-url">').css(muted()).css({ "margin-left": "6px" }).text(info.url).appendTo(head);
    $('<button type="button" class="red-ui-button red-ui-button-small iotgw-tp-stop">').css({ float: "right" }).text(t("ui.stop")).appendTo(head).on("click", function () {
      call("DELETE", API + "/" + encodeURIComponent(info.id)).always(refresh).fail(function (xhr) { showError(errorText(xhr)); });
    });
    $('<div class="iotgw-tp-state">').css(muted()).appendTo(box);

    var useRow = $('<div class="iotgw-tp-use-row">').css({ margin: "4px 0" }).toggle(!!info.use).appendTo(box);
    var useBtn = $('<button type="button" class="red-ui-button red-ui-button-small iotgw-tp-use">').text(t("ui.use")).appendTo(useRow);
    $("<span>").css({ margin: "0 4px" }).text(t("ui.use-for")).appendTo(useRow);
    var cfg = $('<select class="iotgw-tp-config">').css({ width: "auto", "max-width": "180px" }).appendTo(useRow);
    var used = $('<div class="iotgw-tp-used">').css(muted()).appendTo(box);
    useBtn.on("click", function () {
      var id = cfg.val();
      if (!id) return used.text(t("ui.no-config"));
      var name = useIt(box.data("info"), id);
      used.text(t("ui.used", { name: name, url: box.data("info").url }));
    });

    $('<div class="iotgw-tp-devices-head">').css({ "margin-top": "6px", "font-weight": "bold" }).text(t("ui.devices")).appendTo(box);
    $('<div class="iotgw-tp-devices">').appendTo(box);

    var form = $('<div class="iotgw-tp-send-form">').css({ "margin-top": "6px" }).toggle(info.actions.length > 0).appendTo(box);
    var row1 = $("<div>").css({ margin: "2px 0" }).appendTo(form);
    var action = $('<select class="iotgw-tp-action">').css({ width: "auto" }).appendTo(row1);
    info.actions.forEach(function (a) { $("<option>").val(a).text(actionLabel(info.platform, a)).appendTo(action); });
    $('<select class="iotgw-tp-device">').css({ width: "auto", "max-width": "170px", "margin-left": "4px" }).attr("title", t("ui.device")).appendTo(row1);
    var method = $('<input type="text" class="iotgw-tp-method">').attr("placeholder", t("ui.method")).css({ width: "100%", margin: "2px 0" }).appendTo(form);
    var params = $('<input type="text" class="iotgw-tp-params">').css({ width: "100%", margin: "2px 0", "font-family": "monospace" }).appendTo(form);
    var send = $('<button type="button" class="red-ui-button iotgw-tp-send">').text(t("ui.send")).appendTo(form);
    var answer = $('<pre class="iotgw-tp-answer">').css({ "white-space": "pre-wrap", "word-break": "break-all", margin: "4px 0", padding: "4px", "min-height": "1em", background: "var(--red-ui-secondary-background, #f3f3f3)" }).appendTo(form);
    function shape() {
      var values = action.val() === "attributes";
      method.toggle(!values);
      method.attr("placeholder", action.val() === "device-action" ? "reboot / factory_reset" : t("ui.method"));
      params.attr("placeholder", values ? t("ui.values") + ' {"key": 1}' : t("ui.params") + ' {}');
    }
    action.on("change", shape);
    shape();
    send.on("click", function () {
      var a = action.val();
      var text = $.trim(params.val());
      var parsed;
      try {
        parsed = text === "" ? (a === "attributes" ? undefined : {}) : JSON.parse(text);
      } catch (e) {
        answer.addClass("iotgw-tp-failed").css("color", "var(--red-ui-text-color-error, #c00)").text(t("ui.bad-json", { error: e.message }));
        return;
      }
      var body = { device: box.find(".iotgw-tp-device").val() || "" };
      if (a === "attributes") body.values = parsed;
      else {
        body.method = method.val();
        body.params = parsed;
      }
      answer.removeClass("iotgw-tp-failed iotgw-tp-answered").css("color", "").text(t("ui.sending"));
      send.prop("disabled", true);
      call("POST", API + "/" + encodeURIComponent(info.id) + "/" + a, body)
        .done(function (r) {
          var shown = r && r.response !== undefined ? JSON.stringify(r.response, null, 1) : info.platform === "watson" && a === "command" ? t("ui.no-reply") : t("ui.delivered");
          answer.addClass("iotgw-tp-answered").text(shown);
        })
        .fail(function (xhr) { answer.addClass("iotgw-tp-failed").css("color", "var(--red-ui-text-color-error, #c00)").text(errorText(xhr)); })
        .always(function () { send.prop("disabled", false); refresh(); });
    });
    return box;
  }

  function showDevices(box, info, devices) {
    var list = box.find(".iotgw-tp-devices").empty();
    var shown = devices.filter(function (d) { return d.count > 0 || !d.gateway || (d.events && d.events.count > 0) || (d.attributes && Object.keys(d.attributes).length > 0); });
    if (shown.length === 0) $('<div class="iotgw-tp-no-devices">').css(muted()).text(t("ui.no-devices")).appendTo(list);
    shown.forEach(function (d) {
      var row = $('<div class="iotgw-tp-dev">').attr("data-device", d.name).css({ padding: "2px 0" }).appendTo(list);
      $('<span class="iotgw-tp-dev-name">').text(d.name === "" || d.gateway ? (d.name || "") + " " + t("ui.gateway-itself") : d.name).appendTo(row);
      if (d.latest) {
        $('<span class="iotgw-tp-dev-time">').css(muted()).css({ "margin-left": "6px" }).text(new Date(d.latest.ts).toLocaleTimeString() + " · " + t("ui.points", { count: d.count })).appendTo(row);
        $('<div class="iotgw-tp-latest">').css({ "font-family": "monospace", "font-size": "0.9em" }).text((d.latest.event ? d.latest.event + ": " : "") + short(d.latest.values)).appendTo(row);
      }
      if (d.attributes && Object.keys(d.attributes).length > 0) {
        $('<div class="iotgw-tp-attributes">').css({ "font-family": "monospace", "font-size": "0.9em" }).text(t("ui.attributes-reported") + " " + short(d.attributes)).appendTo(row);
      }
      if (d.claims) $('<div class="iotgw-tp-claims">').css(muted()).text(t("ui.claims", { count: d.claims })).appendTo(row);
      if (d.managed) $('<div class="iotgw-tp-managed">').css(muted()).text(t("ui.managed", { info: short(d.managed.deviceInfo) }) + (d.managed.location ? " · " + t("ui.location", { location: short(d.managed.location) }) : "") + (d.managed.errorCodes.length ? " · " + t("ui.error-codes", { codes: d.managed.errorCodes.join(", ") }) : "") + (d.managed.log ? " · " + t("ui.log", { count: d.managed.log }) : "")).appendTo(row);
      if (d.events && d.events.count) $('<div class="iotgw-tp-events">').css(muted()).text(t("ui.events", { count: d.events.count, last: d.events.last || "" })).appendTo(row);
    });
    // the send form's device list: the gateway itself, then every device the platform knows
    var sel = box.find(".iotgw-tp-device");
    var names = devices.map(function (d) { return d.gateway ? "" : d.name; }).filter(function (n, i, all) { return all.indexOf(n) === i; });
    if (names.indexOf("") < 0) names.unshift("");
    var key = names.join("|");
    if (sel.data("key") !== key) {
      var current = sel.val();
      sel.data("key", key).empty();
      names.forEach(function (n) { $("<option>").val(n).text(n === "" ? t("ui.gateway-itself") : n).appendTo(sel); });
      sel.val(current !== undefined && names.indexOf(current) >= 0 ? current : names.length > 1 ? names[1] : "");
    }
  }

  function showError(text) {
    section.find(".iotgw-tp-error").text(text || "");
  }

  function refresh() {
    if (!section) return;
    call("GET", API).done(function (r) {
      var platforms = (r && r.platforms) || [];
      var list = section.find(".iotgw-tp-list");
      var seen = {};
      platforms.forEach(function (info) {
        seen[info.id] = true;
        var box = boxes[info.id];
        if (!box) box = boxes[info.id] = buildBox(info).appendTo(list);
        box.data("info", info);
        box.find(".iotgw-tp-state").text(info.gatewayConnected ? t("ui.connected") : t("ui.not-connected")).attr("data-connected", String(info.gatewayConnected));
        fillConfigs(box.find(".iotgw-tp-config"));
        call("GET", API + "/" + encodeURIComponent(info.id) + "/devices").done(function (d) { showDevices(box, info, (d && d.devices) || []); });
      });
      Object.keys(boxes).forEach(function (id) {
        if (!seen[id]) {
          boxes[id].remove();
          delete boxes[id];
        }
      });
      section.find(".iotgw-tp-none").toggle(platforms.length === 0);
    });
  }

  function poll() {
    if (section && section.is(":visible")) refresh();
    setTimeout(poll, POLL_MS);
  }

  function mount(container) {
    section = $('<div class="iotgw-test-platform">').css({ padding: "8px 10px", "border-top": "2px solid var(--red-ui-secondary-border-color, #ddd)" }).appendTo(container);
    $('<div class="iotgw-tp-title">').css({ "font-weight": "bold" }).append($('<i class="fa fa-flask">').css({ "margin-right": "6px" })).append($("<span>").text(t("ui.title"))).appendTo(section);
    $("<p>").css(muted()).css({ margin: "4px 0" }).text(t("ui.intro")).appendTo(section);
    var row = $('<div class="iotgw-tp-start-row">').appendTo(section);
    var kind = $('<select class="iotgw-tp-kind">').css({ width: "auto" }).appendTo(row);
    Object.keys(NAMES).forEach(function (k) { $("<option>").val(k).text(NAMES[k]).appendTo(kind); });
    var port = $('<input type="number" class="iotgw-tp-port" min="1" max="65535">').attr({ placeholder: t("ui.port-placeholder"), title: t("ui.port") }).css({ width: "90px", margin: "0 4px" }).appendTo(row);
    var start = $('<button type="button" class="red-ui-button iotgw-tp-start">').text(t("ui.start")).appendTo(row);
    kind.on("change", function () { port.attr("placeholder", kind.val() === "modbus" ? String(MODBUS_PORT) : t("ui.port-placeholder")); });
    $('<div class="iotgw-tp-error">').css({ color: "var(--red-ui-text-color-error, #c00)", margin: "4px 0" }).appendTo(section);
    $('<div class="iotgw-tp-none">').css(muted()).text(t("ui.none")).appendTo(section);
    $('<div class="iotgw-tp-list">').appendTo(section);
    start.on("click", function () {
      showError("");
      start.prop("disabled", true);
      var body = { platform: kind.val() };
      if ($.trim(port.val()) !== "") body.port = Number(port.val());
      call("POST", API, body)
        .fail(function (xhr) { showError(errorText(xhr)); })
        .always(function () { start.prop("disabled", false); refresh(); });
    });
    refresh();
    if (!polling) {
      polling = true;
      setTimeout(poll, POLL_MS);
    }
  }

  var tries = 0;
  function tryMount() {
    var container = $("#iotgw-sidebar-sections");
    if (container.length) return mount(container);
    if (++tries < 120) return setTimeout(tryMount, 250);
    // no section container in the IoT gateway tab: a tab of our own
    var own = $("<div>").css({ position: "relative", height: "100%", overflow: "auto" });
    RED.sidebar.addTab({ id: "iot-gateway-test-platform", label: t("ui.title"), name: t("ui.title"), iconClass: "fa fa-flask", content: own, enableOnEdit: true });
    mount(own);
  }

  window.IotGatewayTestPlatform = {
    init: function () {
      if (tries > 0 || section) return;
      tryMount();
    },
    refresh: refresh
  };
})();
