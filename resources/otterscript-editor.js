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
 *         kind: "template",            // "template" (default), "predicate" (a condition) or "groupKey" (a digest
 *                                      //   node's groupBy: shows the key the sample event is grouped under)
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
 * the code editor). The drop-down offers ProGet's ten event types and, after them, a digest (the sample digest
 * a notifier-digest node makes of 12 promoted packages), except for a groupBy key (a digest is not grouped).
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
    if (PN.attachTemplateEditor) {
        return;
    }

    var ROUTE = "notifier-otterscript/preview";
    var EVENT_TYPES = [
        ["package.added", "Package Added"],
        ["package.overwritten", "Package Overwritten"],
        ["package.promoted", "Package Promoted"],
        ["package.deployed", "Package Deployed"],
        ["package.deleted", "Package Deleted"],
        ["package.purged", "Package Purged"],
        ["package.status-changed", "Package Status Changed"],
        ["sca.noncompliant-package", "Noncompliant Package Discovered"],
        ["sca.new-vulnerability", "New Vulnerability Detected"],
        ["sca.build-issues-opened", "Issues Opened on Build"]
    ];
    var DIGEST = "digest";
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
        if (defaultTemplate) {
            body.defaultTemplate = defaultTemplate;
        }
        return post(body);
    };

    function post(body) {
        return new Promise(function (resolve) {
            $.ajax({
                url: ROUTE,
                type: "POST",
                contentType: "application/json",
                dataType: "json",
                data: JSON.stringify(body),
                success: function (data) {
                    resolve(data || {});
                },
                error: function (jqXHR) {
                    var data = jqXHR.responseJSON;
                    if (data && data.error) {
                        resolve(data);
                        return;
                    }
                    resolve({
                        error: { message: t("unreachable", "Preview unavailable: ") + (jqXHR.status || "") + " " + (jqXHR.statusText || "") }
                    });
                }
            });
        });
    }

    // ---------------------------------------------------------------- validation cache for defaults.validate

    var verdicts = {}; // kind + "\n" + source -> true | false
    var pending = {};
    var verdictCount = 0;
    var revalidateTypes = {};
    var revalidateTimer = null;

    function revalidate() {
        revalidateTimer = null;
        try {
            RED.nodes.eachNode(function (n) {
                if (revalidateTypes[n.type]) {
                    RED.editor.validateNode(n);
                }
            });
            RED.view.redraw(true);
        } catch (e) {
            /* the editor may be closing */
        }
    }

    /** Synchronous answer for `validate`: true/false when known, undefined while checking. */
    PN.isValid = function (kind, source, nodeType) {
        if (typeof source !== "string" || source === "") {
            return undefined;
        }
        var key = kind + "\n" + source;
        if (Object.prototype.hasOwnProperty.call(verdicts, key)) {
            return verdicts[key];
        }
        if (nodeType) {
            revalidateTypes[nodeType] = true;
        }
        if (!pending[key]) {
            pending[key] = true;
            PN.preview(kind, source, "sca.new-vulnerability").then(function (data) {
                delete pending[key];
                // only a syntax error makes the node invalid: a run-time error depends on the event
                var err = data && data.error;
                var compileError = !!(err && err.phase === "compile");
                if (++verdictCount > 500) {
                    verdicts = {};
                    verdictCount = 0;
                }
                verdicts[key] = !compileError;
                if (!revalidateTimer) {
                    revalidateTimer = setTimeout(revalidate, 50);
                }
            });
        }
        return undefined;
    };

    // ---------------------------------------------------------------- required credentials

    // Node-RED checks `credentials` definitions only inside the edit dialog; the red triangle and the
    // "not properly configured" warning on deploy come from `defaults`. These helpers let a `defaults`
    // validator check the credentials a node needs. The editor never receives password values, only
    // `has_<name>`, and loads a node's credentials only when its dialog opens, so a credential counts as
    // set when: the open dialog's field has a value (the stored one shows as __PWRD__); or the node's
    // credentials say so (typed, imported, or has_<name>); or, for a deployed node whose credentials the
    // editor has not loaded, the runtime's copy has it (fetched once, then the node is validated again).
    // A node that was never deployed has no stored credentials.

    var storedCreds = {}; // node id -> the runtime's credentials of the node ({ has_x } for passwords), or "pending"

    function editing(node) {
        try {
            return RED.editor.getEditStack().indexOf(node) !== -1;
        } catch (e) {
            return false;
        }
    }

    function dialogInput(node, name) {
        if (!editing(node)) {
            return $();
        }
        return $("#node-input-" + name + ", #node-config-input-" + name).first();
    }

    /** The value of setting `prop` as the open dialog shows it, else the node's. */
    PN.liveValue = function (node, prop) {
        var input = dialogInput(node, prop);
        return input.length ? input.val() : node[prop];
    };

    function deployed(node) {
        var flow = RED.nodes.originalFlow ? RED.nodes.originalFlow() : null;
        if (!Array.isArray(flow)) {
            return true;
        }
        for (var i = 0; i < flow.length; i++) {
            if (flow[i] && flow[i].id === node.id) {
                return true;
            }
        }
        return false;
    }

    function has(creds, name) {
        return creds["has_" + name] === true || (typeof creds[name] === "string" && creds[name].trim() !== "");
    }

    /** true when credential `name` of `node` has a value, false when it has none, undefined while the runtime is asked. */
    PN.hasCredential = function (node, name) {
        var input = dialogInput(node, name);
        if (input.length) {
            return String(input.val() || "").trim() !== "";
        }
        var c = node.credentials;
        if (c && has(c, name)) {
            return true;
        }
        if (c && (c["has_" + name] === false || c[name] === "")) {
            return false;
        }
        if (!deployed(node)) {
            return false;
        }
        var stored = storedCreds[node.id];
        if (stored === "pending") {
            return undefined;
        }
        if (stored) {
            return stored.unknown || has(stored, name);
        }
        storedCreds[node.id] = "pending";
        $.ajax({ url: "credentials/" + node.type + "/" + encodeURIComponent(node.id), dataType: "json" })
            .then(
                function (data) {
                    storedCreds[node.id] = data || {};
                },
                function () {
                    storedCreds[node.id] = { unknown: true };
                }
            )
            .always(function () {
                try {
                    var n = RED.nodes.node(node.id);
                    if (n) {
                        RED.editor.validateNode(n);
                        RED.view.redraw(true);
                    }
                } catch (e) {
                    /* the editor may be closing */
                }
            });
        return undefined;
    };

    /**
     * A `defaults` validator: `needs.call(node, value)` lists the credentials the node needs with this
     * setting's value; each missing one is named by the message `<type>.error.required.<name>`.
     */
    PN.requireCredentials = function (needs) {
        return function (v, opt) {
            var node = this;
            var missing = (needs.call(node, v) || []).filter(function (name) {
                return PN.hasCredential(node, name) === false;
            });
            if (!missing.length) {
                return true;
            }
            if (!opt) {
                return false;
            }
            return missing
                .map(function (name) {
                    return typeof node._ === "function" ? node._(node.type + ".error.required." + name) : name;
                })
                .join("; ");
        };
    };

    /** A credential's own validator, for the dialog: required while `needed.call(node)` says so. */
    PN.credentialNeeded = function (needed) {
        return function (v) {
            return !needed.call(this) || String(v || "").trim() !== "";
        };
    };

    // ---------------------------------------------------------------- the preview panel

    function markError(editor, error) {
        try {
            if (window.monaco && editor.getModel && editor.getModel()) {
                var markers = error
                    ? [
                          {
                              startLineNumber: error.line,
                              startColumn: error.column,
                              endLineNumber: error.line,
                              endColumn: error.column + 1,
                              message: error.message,
                              severity: 8
                          }
                      ]
                    : [];
                window.monaco.editor.setModelMarkers(editor.getModel(), "otterscript", markers);
            } else if (editor.getSession && editor.getSession().setAnnotations) {
                editor
                    .getSession()
                    .setAnnotations(error ? [{ row: error.line - 1, column: error.column - 1, text: error.message, type: "error" }] : []);
            }
        } catch (e) {
            /* markers are a nicety */
        }
    }

    /**
     * The preview panel under a field: a sample-event drop-down, a refresh button, a status line and an
     * output box. Results wrap between words (a word is broken only when it cannot fit a line on its
     * own); an error's excerpt keeps its lines (`white-space: pre`, scrolled sideways) so that the caret
     * stays under the column it points at.
     */
    function makePanel(kind, eventType) {
        var digest = kind !== "groupKey";
        if (!digest && eventType === DIGEST) {
            eventType = "package.promoted";
        }
        var panel = $('<div class="pn-otterscript-preview">').css({ margin: "4px 0 0 104px", width: "70%", boxSizing: "border-box" });
        // the drop-down keeps room for its longest option: it moves under its label when the dialog is narrow
        var bar = $('<div class="pn-otterscript-bar">')
            .css({ display: "flex", flexWrap: "wrap", gap: "4px 6px", alignItems: "center", fontSize: "0.9em" })
            .appendTo(panel);
        $("<span>")
            .text(
                kind === "template"
                    ? t("renderWith", "Preview with sample:")
                    : kind === "groupKey"
                      ? t("groupWith", "Group key of sample:")
                      : t("evaluateWith", "Evaluate with sample:")
            )
            .css({ color: "var(--red-ui-secondary-text-color)", whiteSpace: "nowrap" })
            .appendTo(bar);
        var select = $("<select>").css({ width: "auto", minWidth: "0", flex: "1 0 250px", height: "26px", padding: "0 4px" }).appendTo(bar);
        EVENT_TYPES.forEach(function (e) {
            $("<option>").val(e[0]).text(e[1]).appendTo(select);
        });
        if (digest) {
            $("<option>").val(DIGEST).text(t("digestSample", "Digest (from notifier-digest)")).appendTo(select);
        }
        select.val(eventType);
        var refreshBtn = $('<button type="button" class="red-ui-button red-ui-button-small"><i class="fa fa-refresh"></i></button>')
            .attr("title", t("refresh", "Refresh the preview"))
            .appendTo(bar);
        var status = $('<div class="pn-otterscript-status">').css({ marginTop: "3px", fontSize: "0.9em" }).appendTo(panel);
        var output = $('<pre class="pn-otterscript-output">')
            .css({
                margin: "3px 0 0",
                padding: "4px 6px",
                maxHeight: "160px",
                overflow: "auto",
                fontSize: "0.85em",
                background: "var(--red-ui-secondary-background, #f3f3f3)",
                border: "1px solid var(--red-ui-secondary-border-color, #ddd)",
                borderRadius: "2px"
            })
            .appendTo(panel);
        return {
            panel: panel,
            select: select,
            refreshBtn: refreshBtn,
            error: function (err) {
                status
                    .empty()
                    .append($('<i class="fa fa-exclamation-triangle">').css({ marginRight: "4px" }))
                    .append(
                        $("<span>").text(
                            typeof err.line === "number"
                                ? t("errorAt", "Error (line " + err.line + ", column " + err.column + ")", { line: err.line, column: err.column })
                                : t("error", "Error")
                        )
                    )
                    .css({ color: "var(--red-ui-text-color-error, #c00)" });
                output
                    .addClass("pn-otterscript-excerpt")
                    .css({ whiteSpace: "pre", wordBreak: "normal", overflowWrap: "normal" })
                    .text(err.message + (err.excerpt ? "\n\n" + err.excerpt : ""));
            },
            ok: function (statusText, text) {
                status
                    .css({ color: "var(--red-ui-text-color-success, #3a3)" })
                    .empty()
                    .append($('<i class="fa fa-check">').css({ marginRight: "4px" }))
                    .append($("<span>").text(statusText));
                output
                    .removeClass("pn-otterscript-excerpt")
                    .css({ whiteSpace: "pre-wrap", wordBreak: "normal", overflowWrap: "break-word" })
                    .text(text);
            }
        };
    }

    function anchorOf(options, editor) {
        var anchor = options.container ? $(options.container) : $("#node-input-" + (options.field || "") + "-editor");
        if (!anchor.length && editor && editor.container) {
            anchor = $(editor.container);
        }
        if (!anchor.length && editor && editor.getDomNode) {
            anchor = $(editor.getDomNode());
        }
        return anchor;
    }

    /**
     * Runs `request()` (a promise of a preview answer) when asked, debounced by `schedule`, and hands the
     * newest answer to `show`; stops once the panel left the page.
     */
    function previewLoop(panel, request, show) {
        var timer = null;
        var seq = 0;
        var detached = false;
        function refresh() {
            // the dialog may have closed without detach(): stop once the panel left the page
            if (!detached && !$.contains(document.documentElement, panel[0])) {
                detached = true;
            }
            if (detached) {
                return;
            }
            var mine = ++seq;
            var pending;
            try {
                pending = request();
            } catch (e) {
                detached = true;
                return;
            }
            pending.then(function (data) {
                if (mine === seq && !detached) {
                    show(data);
                }
            });
        }
        return {
            refresh: refresh,
            schedule: function () {
                if (timer) {
                    clearTimeout(timer);
                }
                timer = setTimeout(refresh, 400);
            },
            detach: function () {
                detached = true;
                if (timer) {
                    clearTimeout(timer);
                }
                panel.remove();
            }
        };
    }

    PN.attachTemplateEditor = function (options) {
        options = options || {};
        var editor = options.editor;
        if (!editor || typeof editor.getValue !== "function") {
            throw new Error("attachTemplateEditor: options.editor must be the object RED.editor.createEditor returned");
        }
        var node = options.node || {};
        var field = options.field || "";
        var kind = options.kind === "predicate" || options.kind === "groupKey" ? options.kind : "template";
        var defaultTemplate = options.defaultTemplate || (DEFAULTS[node.type] && DEFAULTS[node.type][field]) || null;
        var ui = makePanel(kind, options.eventType || lastEventType);
        var anchor = anchorOf(options, editor);
        if (anchor.length) {
            ui.panel.insertAfter(anchor.closest(".form-row").length ? anchor.closest(".form-row") : anchor);
        }

        var source = "";
        function show(data) {
            var err = data && data.error;
            if (err) {
                ui.error(err);
                if (typeof err.line === "number") {
                    markError(editor, err);
                }
                return;
            }
            markError(editor, null);
            if (kind === "predicate") {
                ui.ok(
                    data.result ? t("passes", "The sample event passes") : t("blocks", "The sample event does not pass"),
                    source.trim() === "" ? t("emptyPredicate", "(empty: always passes)") : String(data.result)
                );
            } else if (kind === "groupKey") {
                ui.ok(
                    data.fallback !== undefined
                        ? t("groupFallback", "The template fails for this event: it is grouped by its type")
                        : data.usedDefault
                          ? t("groupDefault", "Empty: the default $FeedName/$WebhookEvent is used")
                          : t("groupKey", "Group key"),
                    String(data.result) + (data.fallback !== undefined ? "\n\n" + data.fallback : "")
                );
            } else {
                ui.ok(
                    data.usedDefault ? t("defaultShown", "Empty: the default for this event type is used") : t("rendered", "Rendered"),
                    data.result === "" ? t("emptyResult", "(empty)") : data.result + (data.truncated ? "\n…" : "")
                );
            }
        }
        var loop = previewLoop(
            ui.panel,
            function () {
                source = editor.getValue();
                lastEventType = ui.select.val() || lastEventType;
                return PN.preview(kind, source, ui.select.val(), defaultTemplate);
            },
            show
        );
        try {
            editor.on("change", loop.schedule);
        } catch (e) {
            /* older editors: refresh button only */
        }
        ui.select.on("change", loop.refresh);
        ui.refreshBtn.on("click", loop.refresh);
        loop.refresh();

        return {
            refresh: loop.refresh,
            setEventType: function (code) {
                ui.select.val(code);
                loop.refresh();
            },
            detach: loop.detach
        };
    };

    /** Evaluates a JSONata expression over a message with the editor's own jsonata (v1 sync, v2 a promise). */
    function evaluateJsonata(expr, msg) {
        return new Promise(function (resolve) {
            if (typeof jsonata !== "function") {
                resolve({ error: { message: t("noJsonata", "JSONata is not available in this editor") } });
                return;
            }
            try {
                // as Node-RED evaluates it: over the message, or over { msg } when the expression names msg
                var legacy = /(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)/.test(expr);
                Promise.resolve(jsonata(expr).evaluate(legacy ? { msg: msg } : msg)).then(
                    function (v) {
                        resolve({ result: !!v });
                    },
                    function (e) {
                        resolve({ error: { message: e.message || String(e) } });
                    }
                );
            } catch (e) {
                resolve({ error: { message: e.message || String(e) } });
            }
        });
    }

    /**
     * The condition node's preview: evaluates what the node would run, the feed filter then the chosen
     * mode with its own settings (not the expression field when another mode is chosen).
     *
     *     PN.attachConditionPreview({
     *         container: "#node-input-outputs",   // the preview goes before this field's row
     *         settings: function () { return { feeds, mode, packageName, packageVersion, minScore, minSeverity, expression, jsonata }; },
     *         editor: expressionEditor,           // optional: marks an expression's error in it
     *         eventType: "sca.new-vulnerability"
     *     });
     *     // .refresh() (call it when a setting changed: it is debounced with .schedule()), .detach()
     */
    PN.attachConditionPreview = function (options) {
        options = options || {};
        var ui = makePanel("condition", options.eventType || lastEventType);
        ui.panel.addClass("pn-condition-preview");
        var anchor = $(options.container);
        if (anchor.length) {
            ui.panel.insertBefore(anchor.closest(".form-row").length ? anchor.closest(".form-row") : anchor);
        }
        var settings = {};
        function show(data) {
            var err = data && data.error;
            var editor = options.editor;
            if (err) {
                ui.error(err);
                if (editor) {
                    markError(editor, settings.mode === "expression" && typeof err.line === "number" ? err : null);
                }
                return;
            }
            if (editor) {
                markError(editor, null);
            }
            var why = data.reason === "feed" ? t("feedBlocks", "Its feed does not pass the feed filter.") : "";
            ui.ok(
                data.result ? t("passes", "The sample event passes") : t("blocks", "The sample event does not pass"),
                (why ? why + "\n" : "") + (data.checked || "")
            );
        }
        var loop = previewLoop(
            ui.panel,
            function () {
                settings = options.settings() || {};
                var eventType = ui.select.val() || lastEventType;
                lastEventType = eventType;
                var body = {
                    kind: "condition",
                    eventType: eventType,
                    condition: {
                        feeds: settings.feeds,
                        mode: settings.mode,
                        packageName: settings.packageName,
                        packageVersion: settings.packageVersion,
                        minScore: settings.minScore,
                        minSeverity: settings.minSeverity,
                        expression: settings.expression
                    }
                };
                return post(body).then(function (data) {
                    if (!data || data.error || !data.msg || settings.mode !== "jsonata") {
                        return data;
                    }
                    return evaluateJsonata(String(settings.jsonata || ""), data.msg).then(function (j) {
                        return j.error ? { error: j.error } : { result: j.result, reason: j.result ? "matched" : "condition", checked: data.checked };
                    });
                });
            },
            show
        );
        ui.select.on("change", loop.refresh);
        ui.refreshBtn.on("click", loop.refresh);
        loop.refresh();
        return { refresh: loop.refresh, schedule: loop.schedule, detach: loop.detach };
    };
})();
