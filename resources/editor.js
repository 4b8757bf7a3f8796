// Editor code every dialog of node-red-contrib-iot-gateway shares. Node-RED serves this folder at
// /resources/node-red-contrib-iot-gateway/ and loads this script before the node definitions of
// each .html that names it; every .html names it, so it runs once and later loads return early.
(function () {
  "use strict";
  if (window.IotGateway) return;

  var MESSAGE_TYPES = ["str", "msg", "flow", "global", "env"];
  var URL_SCHEME = /^(mqtts?|wss?):\/\/[^\/\s]+/;
  var SECURE_SCHEME = /^(mqtts|wss):\/\//;
  var PLATFORMS = {
    // QoS the platform's gateway API handles (ThingsBoard's gateway path: 1 only)
    thingsboard: { qos: ["1"] }
  };

  function t(node, key, opts) {
    var f = node && (typeof node._ === "function" ? node._ : node._def && node._def._);
    return typeof f === "function" ? f(key, opts) : key;
  }

  /** The value the open dialog shows for a property of `node`, else the node's saved one. */
  function current(node, field, config) {
    var el = $("#node-" + (config ? "config-" : "") + "input-" + field);
    if (el.length && el.is("input,select")) {
      var v = el.val();
      if (v !== null && v !== undefined) return v;
    }
    return node[field];
  }

  /** A credential is set when the dialog holds one, or the runtime said it has one. */
  function hasCredential(node, key) {
    var el = $("#node-config-input-" + key);
    if (el.length) return String(el.val() || "") !== "";
    var c = node.credentials;
    if (!c) return true; // not loaded into the editor yet: the runtime reports it
    return (c[key] !== undefined && c[key] !== "") || c["has_" + key] === true;
  }

  var rules = {
    /** Broker URL: a scheme the session can open, a host, and a secure one for X.509. */
    url: function (node, url) {
      url = String(url || "").trim();
      if (!URL_SCHEME.test(url)) return t(node, "gateway-config.validate.url");
      if (current(node, "auth", true) === "x509" && !SECURE_SCHEME.test(url)) return t(node, "gateway-config.validate.x509-url");
      return true;
    },
    /** Auth: the secrets each mode needs. */
    auth: function (node, auth) {
      if (auth === "basic") {
        if (!hasCredential(node, "username")) return t(node, "gateway-config.validate.username");
        return true;
      }
      if (auth === "x509") return true;
      if (auth === "provision") {
        var named = String(current(node, "provisionDevice", true) || "").trim() !== "";
        return named && hasCredential(node, "provisionKey") && hasCredential(node, "provisionSecret") ? true : t(node, "gateway-config.validate.provision");
      }
      return hasCredential(node, "token") ? true : t(node, "gateway-config.validate.token");
    },
    /** TLS: required for X.509, and it must still exist. */
    tls: function (node, id) {
      if (!id || id === "_ADD_") return current(node, "auth", true) === "x509" ? t(node, "gateway-config.validate.x509-tls") : true;
      return RED.nodes.node(id) ? true : t(node, "gateway-config.validate.tls-missing");
    },
    qos: function (node, qos) {
      var p = PLATFORMS[current(node, "platform", true) || "thingsboard"] || PLATFORMS.thingsboard;
      return p.qos.indexOf(String(qos)) >= 0 ? true : t(node, "gateway-config.validate.qos", { qos: p.qos.join(", ") });
    }
  };

  // The register map's rules are the runtime's (POST modbus-source/map); Node-RED validates
  // synchronously, so the answer is kept per node and map, and the node redrawn when it comes.
  var mapAnswers = {};
  function mapRule(node, map) {
    if (!Array.isArray(map) || map.length === 0) return t(node, "modbus-source.map.empty");
    var key = JSON.stringify(map);
    var known = mapAnswers[node.id];
    if (known && known.key === key) return known.result;
    mapAnswers[node.id] = { key: key, result: true };
    $.ajax({ url: "modbus-source/map", type: "POST", contentType: "application/json", data: JSON.stringify({ rows: map }), dataType: "json" })
      .done(function (a) {
        var bad = Object.keys(a.rowErrors || {}).length;
        var first = [];
        Object.keys(a.rowErrors || {}).forEach(function (i) { first = first.concat(a.rowErrors[i]); });
        var errors = (a.errors || []).concat(first);
        var result = errors.length === 0 ? true : t(node, "modbus-source.map.invalid-rows", { count: bad || errors.length }) + ": " + errors.slice(0, 3).join("; ");
        if (!mapAnswers[node.id] || mapAnswers[node.id].key !== key) return;
        mapAnswers[node.id].result = result;
        var n = RED.nodes.node(node.id);
        if (n) {
          RED.editor.validateNode(n);
          n.dirty = true;
          RED.view.redraw();
        }
      });
    return true;
  }

  /** Validators in Node-RED 3's form (value, opt) → true | reason, bound to a rule. */
  function validator(rule) {
    return function (v, opt) { return rule(this, v, opt); };
  }

  window.IotGateway = {
    MESSAGE_TYPES: MESSAGE_TYPES,
    PLATFORMS: PLATFORMS,
    rules: rules,
    validate: {
      url: validator(rules.url),
      auth: validator(rules.auth),
      tls: validator(rules.tls),
      qos: validator(rules.qos),
      map: validator(mapRule)
    },
    /** A typed input for a device, profile or other msg-resolved property: `field` and `fieldType`. */
    typed: function (field, types) {
      $("#node-input-" + field).typedInput({ types: types || MESSAGE_TYPES, typeField: "#node-input-" + field + "Type" });
    },
    /** Typed inputs for the device and profile of the nodes that send for a device. */
    deviceInputs: function (node) {
      if (node.deviceType === "msg" && !node.device) $("#node-input-device").val("device");
      IotGateway.typed("device");
      if ($("#node-input-profile").length) IotGateway.typed("profile");
    },
    /** The label of a node that acts for one device: its name, else "<what> <device>" for a fixed one. */
    deviceLabel: function (node, what, fallback) {
      if (node.name) return node.name;
      return node.deviceType === "str" && node.device ? what + " " + node.device : fallback;
    },
    labelStyle: function () { return this.name ? "node_label_italic" : ""; },
    /** The QoS select offers what the platform handles. */
    qosOptions: function (platform) {
      var sel = $("#node-config-input-qos");
      var keep = sel.val();
      var p = PLATFORMS[platform] || PLATFORMS.thingsboard;
      sel.empty();
      p.qos.forEach(function (q) { $("<option>").val(q).text(q).appendTo(sel); });
      sel.val(p.qos.indexOf(keep) >= 0 ? keep : p.qos[0]);
    }
  };
})();
