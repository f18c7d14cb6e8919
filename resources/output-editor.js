/*
 * Editor helpers shared by the output nodes' edit dialogs (notifier-webhook, notifier-slack, notifier-teams,
 * notifier-email): template fields in Node-RED's code editor (one-line fields in a plain input) (with the OtterScript preview of otterscript-editor.js when it is
 * loaded), header-line validation that follows the runtime's rules, number ranges and URL hosts for labels.
 * Served by Node-RED at resources/@package-notifiers/node-red/output-editor.js; each node's .html loads it with
 * <script src="resources/@package-notifiers/node-red/output-editor.js"></script>.
 */
(function () {
    "use strict";
    /**
     * A one-line template field (a subject, a card title) stays the plain text input core nodes use; this
     * gives it the editor interface the preview and the dialog helpers call.
     */
    function lineEditor(input) {
        return {
            getValue: function () {
                return input.val() || "";
            },
            setValue: function (v) {
                input.val(v).trigger("change");
            },
            on: function (event, fn) {
                if (event === "change") {
                    input.on("input change", fn);
                }
            },
            resize: function () {},
            destroy: function () {
                input.off("input change");
            },
            container: input[0]
        };
    }

    window.PackageNotifiersOutput = window.PackageNotifiersOutput || {
        /**
         * Template fields: each `<input type="hidden" id="node-input-F">` + `<div id="node-input-F-editor">` pair
         * becomes a code editor; a visible `<input type="text" id="node-input-F">` (one-line fields) stays an
         * input. Both get the OtterScript preview.
         */
        openEditors: function (node, fields) {
            var editors = {};
            fields.forEach(function (f) {
                var input = $("#node-input-" + f);
                var ed =
                    input.attr("type") === "text"
                        ? lineEditor(input)
                        : RED.editor.createEditor({ id: "node-input-" + f + "-editor", mode: "text", value: input.val() || "" });
                var PN = window.PackageNotifiers;
                if (PN && typeof PN.attachTemplateEditor === "function") {
                    try {
                        PN.attachTemplateEditor({ editor: ed, node: node, field: f, container: input.attr("type") === "text" ? input : undefined });
                    } catch (e) {
                        /* the plain editor still works */
                    }
                }
                editors[f] = ed;
            });
            return editors;
        },
        saveEditors: function (editors) {
            Object.keys(editors).forEach(function (f) {
                var value = editors[f].getValue();
                editors[f].destroy();
                $("#node-input-" + f).val(value);
            });
        },
        /** oneditsave / oneditcancel / oneditresize of a dialog whose editors openEditors put on node._pnEditors */
        saveDialog: function (node) {
            if (node._pnEditors) {
                window.PackageNotifiersOutput.saveEditors(node._pnEditors);
            }
            delete node._pnEditors;
        },
        cancelDialog: function (node) {
            if (node._pnEditors) {
                window.PackageNotifiersOutput.closeEditors(node._pnEditors);
            }
            delete node._pnEditors;
        },
        /** grows the editor of `field` into the room the dialog has left */
        resizeDialog: function (node, field, size, min) {
            var ed = $("#node-input-" + field + "-editor");
            var used = 0;
            $("#dialog-form>div").each(function () {
                if ($(this).is(":visible")) {
                    used += $(this).outerHeight(true);
                }
            });
            ed.css("height", Math.max(min || 140, ed.height() + size.height - used) + "px");
            if (node._pnEditors && node._pnEditors[field]) {
                node._pnEditors[field].resize();
            }
        },
        closeEditors: function (editors) {
            Object.keys(editors).forEach(function (f) {
                editors[f].destroy();
            });
        },
        // the runtime's rules for header lines (src/core/channels/headers.ts), for the editor's validation
        headerProblem: function (text) {
            if (!text) {
                return null;
            }
            if (/\r(?!\n)/.test(text)) {
                return "a carriage return (CR) inside a line is refused";
            }
            var lines = text.split(/\r?\n/),
                seen = {};
            for (var i = 0; i < lines.length; i++) {
                var raw = lines[i],
                    n = i + 1;
                if (!raw.trim()) {
                    continue;
                }
                // eslint-disable-next-line no-control-regex -- control characters in a header line are refused on purpose (as the runtime does)
                if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(raw)) {
                    return "line " + n + ": control characters are not allowed";
                }
                var c = raw.indexOf(":"),
                    e = raw.indexOf("=");
                var sep = c < 0 ? e : e < 0 ? c : Math.min(c, e);
                if (sep < 0) {
                    return "line " + n + ': expected "Name: value"';
                }
                var name = raw.slice(0, sep).trim(),
                    value = raw.slice(sep + 1);
                if (!/^[!#%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
                    return "line " + n + ': "' + name + '" is not a valid header name';
                }
                if (/^(content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer)$/i.test(name)) {
                    return "line " + n + ": " + name + " is set by the transport";
                }
                if (/`[rn0]/i.test(value.replace(/``/g, ""))) {
                    return "line " + n + ": `r and `n would inject a line break";
                }
                if (seen[name.toLowerCase()]) {
                    return "line " + n + ": " + name + " is given twice";
                }
                seen[name.toLowerCase()] = true;
            }
            return null;
        },
        isNumberIn: function (v, min, max, fraction) {
            if (v === "" || v === undefined || v === null) {
                return true;
            }
            var n = Number(v);
            return isFinite(n) && n >= min && n <= max && (fraction || Math.floor(n) === n);
        },
        host: function (url) {
            var m = /^[a-z]+:\/\/([^/?#]+)/i.exec(url || "");
            var host = m ? m[1].replace(/^[^@]*@/, "") : url || "";
            return host.length > 30 ? host.slice(0, 29) + "…" : host;
        }
    };
})();
