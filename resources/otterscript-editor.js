/*
 * OtterScript editor helper for @package-notifiers/node-red (editor side, plain ES5 + jQuery).
 *
 * Node-RED serves this file at `resources/@package-notifiers/node-red/otterscript-editor.js`. A node's
 * editor html loads it once with
 *
 *     <script src="resources/@package-notifiers/node-red/otterscript-editor.js"></script>
 *
 * and then, in oneditprepare, attaches a live preview to a code editor made with RED.editor.createEditor:
 *
 *     var editor = RED.editor.createEditor({ id: "node-input-content-editor", mode: "text", value: node.content });
 *     var preview = window.PackageNotifiers.attachTemplateEditor({
 *         editor: editor,              // required: what RED.editor.createEditor returned
 *         node: node,                  // the node being edited (its type picks the default template)
 *         field: "content",            // the property; the preview goes after #node-input-<field>-editor
 *         kind: "template",            // "template" (default) or "predicate" (a condition)
 *         eventType: "package.promoted",  // optional: the sample event first shown
 *         defaultTemplate: "webhook",  // optional: what an empty template previews (webhook, emailSubject,
 *                                      //   emailBody, slack, teamsTitle, teamsText); derived from node.type + field
 *         container: "#some-element"   // optional: where to put the preview instead
 *     });
 *     // preview.refresh(), preview.setEventType(code), preview.detach()  (detach in oneditsave/oneditcancel)
 *
 * As the text changes (debounced), the helper POSTs { kind, source, eventType, defaultTemplate } to the
 * admin route `notifier-otterscript/preview` (registered by the package's runtime; permission
 * `notifier-otterscript.write`) and shows the rendered text or the result of the condition for the sample
 * event chosen in the preview's drop-down, or the error with its line, column and excerpt (also marked in
 * the code editor).
 *
 * Validation for `defaults` (synchronous, as Node-RED wants it):
 *
 *     expression: { value: "", validate: function (v) { return window.PackageNotifiers.isValid("predicate", v) !== false; } }
 *
 * isValid returns true or false once the source was checked, and undefined while a check (started by
 * that first call) runs; when it ends, the nodes of the types that asked are validated again.
 */
(function () {
    "use strict";
    var PN = (window.PackageNotifiers = window.PackageNotifiers || {});
    if (PN.attachTemplateEditor) { return; }

    var ROUTE = "notifier-otterscript/preview";
    var EVENT_TYPES = [
        ["package.added", "Package Added"], ["package.overwritten", "Package Overwritten"],
        ["package.promoted", "Package Promoted"], ["package.deployed", "Package Deployed"],
        ["package.deleted", "Package Deleted"], ["package.purged", "Package Purged"],
        ["package.status-changed", "Package Status Changed"], ["sca.noncompliant-package", "Noncompliant Package Discovered"],
        ["sca.new-vulnerability", "New Vulnerability Detected"], ["sca.build-issues-opened", "Issues Opened on Build"]
    ];
    // node type + field -> default template previewed when the field is empty
    var DEFAULTS = {
        "notifier-webhook": { content: "webhook" },
        "notifier-slack": { text: "slack" },
        "notifier-teams": { title: "teamsTitle", text: "teamsText" },
        "notifier-email": { subject: "emailSubject", body: "emailBody" }
    };
    var lastEventType = "package.promoted";

    function t(key, fallback, params) {
        var full = "@package-notifiers/node-red/notifier-condition:notifier-condition.preview." + key;
        var s = RED._(full, params || {});
        return s && s !== full ? s : fallback;
    }

    /** POSTs a preview request; resolves with { result } or { error: { message, line, column, excerpt } }. */
    PN.preview = function (kind, source, eventType, defaultTemplate) {
        var body = { kind: kind, source: source, eventType: eventType || lastEventType };
        if (defaultTemplate) { body.defaultTemplate = defaultTemplate; }
        return new Promise(function (resolve) {
            $.ajax({
                url: ROUTE,
                type: "POST",
                contentType: "application/json",
                dataType: "json",
                data: JSON.stringify(body),
                success: function (data) { resolve(data || {}); },
                error: function (jqXHR) {
                    var data = jqXHR.responseJSON;
                    if (data && data.error) { resolve(data); return; }
                    resolve({ error: { message: t("unreachable", "Preview unavailable: ") + (jqXHR.status || "") + " " + (jqXHR.statusText || "") } });
                }
            });
        });
    };

    // ---------------------------------------------------------------- validation cache for defaults.validate

    var verdicts = {};   // kind + "\n" + source -> true | false
    var pending = {};
    var verdictCount = 0;
    var revalidateTypes = {};
    var revalidateTimer = null;

    function revalidate() {
        revalidateTimer = null;
        try {
            RED.nodes.eachNode(function (n) {
                if (revalidateTypes[n.type]) { RED.editor.validateNode(n); }
            });
            RED.view.redraw(true);
        } catch (e) { /* the editor may be closing */ }
    }

    /** Synchronous answer for `validate`: true/false when known, undefined while checking. */
    PN.isValid = function (kind, source, nodeType) {
        if (typeof source !== "string" || source === "") { return undefined; }
        var key = kind + "\n" + source;
        if (Object.prototype.hasOwnProperty.call(verdicts, key)) { return verdicts[key]; }
        if (nodeType) { revalidateTypes[nodeType] = true; }
        if (!pending[key]) {
            pending[key] = true;
            PN.preview(kind, source, "sca.new-vulnerability").then(function (data) {
                delete pending[key];
                // only a syntax error makes the node invalid: a run-time error depends on the event
                var err = data && data.error;
                var compileError = !!(err && err.phase === "compile");
                if (++verdictCount > 500) { verdicts = {}; verdictCount = 0; }
                verdicts[key] = !compileError;
                if (!revalidateTimer) { revalidateTimer = setTimeout(revalidate, 50); }
            });
        }
        return undefined;
    };

    // ---------------------------------------------------------------- the preview panel

    function markError(editor, error) {
        try {
            if (window.monaco && editor.getModel && editor.getModel()) {
                var markers = error ? [{
                    startLineNumber: error.line, startColumn: error.column,
                    endLineNumber: error.line, endColumn: error.column + 1,
                    message: error.message, severity: 8
                }] : [];
                window.monaco.editor.setModelMarkers(editor.getModel(), "otterscript", markers);
            } else if (editor.getSession && editor.getSession().setAnnotations) {
                editor.getSession().setAnnotations(error ? [{ row: error.line - 1, column: error.column - 1, text: error.message, type: "error" }] : []);
            }
        } catch (e) { /* markers are a nicety */ }
    }

    PN.attachTemplateEditor = function (options) {
        options = options || {};
        var editor = options.editor;
        if (!editor || typeof editor.getValue !== "function") {
            throw new Error("attachTemplateEditor: options.editor must be the object RED.editor.createEditor returned");
        }
        var node = options.node || {};
        var field = options.field || "";
        var kind = options.kind === "predicate" ? "predicate" : "template";
        var defaultTemplate = options.defaultTemplate || (DEFAULTS[node.type] && DEFAULTS[node.type][field]) || null;
        var eventType = options.eventType || lastEventType;

        var anchor = options.container ? $(options.container) : $("#node-input-" + field + "-editor");
        if (!anchor.length && editor.container) { anchor = $(editor.container); }
        if (!anchor.length && editor.getDomNode) { anchor = $(editor.getDomNode()); }

        var panel = $('<div class="pn-otterscript-preview">').css({ margin: "4px 0 0 104px", maxWidth: "calc(70% + 4px)" });
        var bar = $('<div class="pn-otterscript-bar">').css({ display: "flex", gap: "6px", alignItems: "center", fontSize: "0.9em" }).appendTo(panel);
        $("<span>").text(kind === "predicate" ? t("evaluateWith", "Evaluate with sample:") : t("renderWith", "Preview with sample:"))
            .css({ color: "var(--red-ui-secondary-text-color)" }).appendTo(bar);
        var select = $("<select>").css({ width: "auto", flex: "1 1 auto", height: "26px", padding: "0 4px" }).appendTo(bar);
        EVENT_TYPES.forEach(function (e) { $("<option>").val(e[0]).text(e[1]).appendTo(select); });
        select.val(eventType);
        var refreshBtn = $('<button type="button" class="red-ui-button red-ui-button-small"><i class="fa fa-refresh"></i></button>')
            .attr("title", t("refresh", "Refresh the preview")).appendTo(bar);
        var status = $('<div class="pn-otterscript-status">').css({ marginTop: "3px", fontSize: "0.9em" }).appendTo(panel);
        var output = $('<pre class="pn-otterscript-output">').css({
            margin: "3px 0 0", padding: "4px 6px", maxHeight: "160px", overflow: "auto", whiteSpace: "pre-wrap", wordBreak: "break-all",
            fontSize: "0.85em", background: "var(--red-ui-secondary-background, #f3f3f3)",
            border: "1px solid var(--red-ui-secondary-border-color, #ddd)", borderRadius: "2px"
        }).appendTo(panel);
        if (anchor.length) { panel.insertAfter(anchor.closest(".form-row").length ? anchor.closest(".form-row") : anchor); }

        var timer = null;
        var seq = 0;
        var detached = false;

        function show(data, source) {
            var err = data && data.error;
            if (err) {
                status.empty().append($('<i class="fa fa-exclamation-triangle">').css({ marginRight: "4px" }))
                    .append($("<span>").text(typeof err.line === "number" ? t("errorAt", "Error (line " + err.line + ", column " + err.column + ")", { line: err.line, column: err.column }) : t("error", "Error")))
                    .css({ color: "var(--red-ui-text-color-error, #c00)" });
                output.text(err.message + (err.excerpt ? "\n\n" + err.excerpt : ""));
                if (typeof err.line === "number") { markError(editor, err); }
                return;
            }
            markError(editor, null);
            status.css({ color: "var(--red-ui-text-color-success, #3a3)" }).empty()
                .append($('<i class="fa fa-check">').css({ marginRight: "4px" }));
            if (kind === "predicate") {
                status.append($("<span>").text(data.result ? t("passes", "The sample event passes") : t("blocks", "The sample event does not pass")));
                output.text(source.trim() === "" ? t("emptyPredicate", "(empty: always passes)") : String(data.result));
            } else {
                status.append($("<span>").text(data.usedDefault ? t("defaultShown", "Empty: the default for this event type is used") : t("rendered", "Rendered")));
                output.text(data.result === "" ? t("emptyResult", "(empty)") : data.result + (data.truncated ? "\n…" : ""));
            }
        }

        function refresh() {
            // the dialog may have closed without detach(): stop once the panel left the page
            if (!detached && !$.contains(document.documentElement, panel[0])) { detached = true; }
            if (detached) { return; }
            var source;
            try { source = editor.getValue(); } catch (e) { detached = true; return; }
            var mine = ++seq;
            lastEventType = select.val() || lastEventType;
            PN.preview(kind, source, select.val(), defaultTemplate).then(function (data) {
                if (mine === seq && !detached) { show(data, source); }
            });
        }
        function schedule() {
            if (timer) { clearTimeout(timer); }
            timer = setTimeout(refresh, 400);
        }
        try { editor.on("change", schedule); } catch (e) { /* older editors: refresh button only */ }
        select.on("change", refresh);
        refreshBtn.on("click", refresh);
        refresh();

        return {
            refresh: refresh,
            setEventType: function (code) { select.val(code); refresh(); },
            detach: function () {
                detached = true;
                if (timer) { clearTimeout(timer); }
                panel.remove();
            }
        };
    };
}());
