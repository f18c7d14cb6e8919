/*
 * Editor helpers shared by the output nodes' edit dialogs (notifier-webhook, notifier-slack, notifier-teams):
 * template fields in Node-RED's code editor (with the OtterScript preview of otterscript-editor.js when it is
 * loaded), header-line validation that follows the runtime's rules, number ranges and URL hosts for labels.
 * Served by Node-RED at resources/@package-notifiers/node-red/output-editor.js; each node's .html loads it with
 * <script src="resources/@package-notifiers/node-red/output-editor.js"></script>.
 */
(function () {
    "use strict";
    window.PackageNotifiersOutput = window.PackageNotifiersOutput || {
        openEditors: function (node, fields) {
            var editors = {};
            fields.forEach(function (f) {
                var ed = RED.editor.createEditor({ id: "node-input-" + f + "-editor", mode: "text", value: $("#node-input-" + f).val() || "" });
                var PN = window.PackageNotifiers;
                if (PN && typeof PN.attachTemplateEditor === "function") {
                    try { PN.attachTemplateEditor({ editor: ed, node: node, field: f }); } catch (e) { /* the plain editor still works */ }
                }
                editors[f] = ed;
            });
            return editors;
        },
        saveEditors: function (editors) {
            Object.keys(editors).forEach(function (f) {
                $("#node-input-" + f).val(editors[f].getValue());
                editors[f].destroy();
            });
        },
        /** oneditsave / oneditcancel / oneditresize of a dialog whose editors openEditors put on node._pnEditors */
        saveDialog: function (node) {
            if (node._pnEditors) { window.PackageNotifiersOutput.saveEditors(node._pnEditors); }
            delete node._pnEditors;
        },
        cancelDialog: function (node) {
            if (node._pnEditors) { window.PackageNotifiersOutput.closeEditors(node._pnEditors); }
            delete node._pnEditors;
        },
        /** grows the editor of `field` into the room the dialog has left */
        resizeDialog: function (node, field, size) {
            var ed = $("#node-input-" + field + "-editor");
            var used = 0;
            $("#dialog-form>div").each(function () { if ($(this).is(":visible")) { used += $(this).outerHeight(true); } });
            ed.css("height", Math.max(140, ed.height() + size.height - used) + "px");
            if (node._pnEditors && node._pnEditors[field]) { node._pnEditors[field].resize(); }
        },
        closeEditors: function (editors) {
            Object.keys(editors).forEach(function (f) { editors[f].destroy(); });
        },
        // the runtime's rules for header lines (src/core/channels/headers.ts), for the editor's validation
        headerProblem: function (text) {
            if (!text) { return null; }
            if (/\r(?!\n)/.test(text)) { return "a carriage return (CR) inside a line is refused"; }
            var lines = text.split(/\r?\n/), seen = {};
            for (var i = 0; i < lines.length; i++) {
                var raw = lines[i], n = i + 1;
                if (!raw.trim()) { continue; }
                if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) { return "line " + n + ": control characters are not allowed"; }
                var c = raw.indexOf(":"), e = raw.indexOf("=");
                var sep = c < 0 ? e : (e < 0 ? c : Math.min(c, e));
                if (sep < 0) { return "line " + n + ": expected \"Name: value\""; }
                var name = raw.slice(0, sep).trim(), value = raw.slice(sep + 1);
                if (!/^[!#%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) { return "line " + n + ": \"" + name + "\" is not a valid header name"; }
                if (/^(content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer)$/i.test(name)) { return "line " + n + ": " + name + " is set by the transport"; }
                if (/`[rn0]/i.test(value.replace(/``/g, ""))) { return "line " + n + ": `r and `n would inject a line break"; }
                if (seen[name.toLowerCase()]) { return "line " + n + ": " + name + " is given twice"; }
                seen[name.toLowerCase()] = true;
            }
            return null;
        },
        isNumberIn: function (v, min, max, fraction) {
            if (v === "" || v === undefined || v === null) { return true; }
            var n = Number(v);
            return isFinite(n) && n >= min && n <= max && (fraction || Math.floor(n) === n);
        },
        host: function (url) {
            var m = /^[a-z]+:\/\/([^\/?#]+)/i.exec(url || "");
            var host = m ? m[1].replace(/^[^@]*@/, "") : (url || "");
            return host.length > 30 ? host.slice(0, 29) + "…" : host;
        }
    };})();
