// Live alerts on the campaign list: new high-confidence campaigns and spikes, as the results API's
// alert stream (server-sent events) delivers them. Every value is put in as text, never as markup.
(function () {
  "use strict";
  var panel = document.getElementById("live-alerts");
  if (!panel || !window.EventSource) {
    return;
  }
  var list = document.getElementById("live-alerts-list");
  var status = document.getElementById("live-alerts-status");
  var campaignBase = panel.getAttribute("data-campaign-base");
  var kept = 50;
  var seen = {};

  function setStatus(text) {
    status.textContent = text;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function describe(alert) {
    var f = alert.facts || {};
    if (alert.kind === "new_campaign") {
      return "new " + f.verdict + ", confidence " + Number(f.confidence).toFixed(3) + ", " +
        f.sessions + " sessions in " + f.intervals + " interval(s)";
    }
    var where = f.hour === null || f.hour === undefined ? f.day : f.day + " " + f.hour + ":00";
    return f.metric + " spike on " + where + " (" + f.method + "): " + f.value +
      " against a threshold of " + Number(f.threshold).toFixed(1);
  }

  function show(alert) {
    if (seen[alert.alert_id]) {
      return;
    }
    seen[alert.alert_id] = true;
    var row = document.createElement("tr");
    row.setAttribute("data-alert-id", alert.alert_id);
    row.className = "live-" + alert.kind;
    cell(row, alert.emitted_at);
    cell(row, alert.kind === "spike" ? "spike" : "new campaign");
    var link = document.createElement("a");
    link.href = campaignBase + encodeURIComponent(alert.campaign_id);
    link.textContent = alert.campaign_id;
    cell(row, "").appendChild(link);
    cell(row, describe(alert));
    list.insertBefore(row, list.firstChild);
    while (list.children.length > kept) {
      list.removeChild(list.lastChild);
    }
  }

  var source = new EventSource(panel.getAttribute("data-stream"));
  source.onopen = function () {
    setStatus("live: new alerts appear here as they are published");
  };
  source.onerror = function () {
    setStatus(source.readyState === EventSource.CLOSED ? "live alerts unavailable (reload to retry)"
      : "reconnecting…");
  };
  source.addEventListener("alert", function (event) {
    var alert;
    try {
      alert = JSON.parse(event.data);
    } catch (err) {
      setStatus("an alert could not be read: " + err);
      return;
    }
    if (alert.schema_version !== 1) {
      setStatus("an alert of unknown schema " + alert.schema_version + " was skipped");
      return;
    }
    show(alert);
  });
  source.addEventListener("gap", function () {
    setStatus("some alerts may have been missed while disconnected: reload for the stored campaigns");
  });
})();
