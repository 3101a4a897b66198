// The rules editor's condition builder, improved in place (the page works without it: every
// builder button posts the form and the server redraws the rows). Here the buttons add and
// remove rows and groups in the page, the fields are renumbered by their place in the tree
// (names as web/rules_form.py reads them), and each change asks /schemes/<name>/count, after
// a pause, for every tier's count, its condition as text and the gaps-and-overlaps panel.
// The customer list's filter form (form.list-filter) uses the same rows without the counts.
(function () {
  "use strict";

  var form = document.querySelector("form.editor, form.list-filter");
  if (!form || !form.querySelector(".builder-tree")) {
    return;
  }
  var counting = form.classList.contains("editor");
  var countUrl = form.getAttribute("action").split("?")[0] + "/count";
  var timer = null;
  var asked = 0;

  function template(id) {
    var t = document.getElementById(id);
    return t ? t.content.firstElementChild.cloneNode(true) : null;
  }

  function own(group, selector) {
    // Elements of this group, not of the groups inside it.
    return Array.prototype.filter.call(group.querySelectorAll(selector), function (el) {
      return el.closest(".builder-group") === group;
    });
  }

  function items(group) {
    var box = group.querySelector(".builder-items");
    return Array.prototype.filter.call(box.children, function (el) {
      return el.classList.contains("builder-item");
    });
  }

  function name(tier, path, field) {
    return "tiers[" + tier + "].c." + (path ? path + "." : "") + field;
  }

  function label(scope, field, id) {
    scope.querySelectorAll("label").forEach(function (l) {
      var target = l.getAttribute("for") || "";
      if (target.split(".").pop() === field) {
        l.setAttribute("for", id);
      }
    });
  }

  function number(group, tier, path, depth) {
    group.dataset.depth = String(depth);
    var join = own(group, "[data-field=join]")[0];
    join.name = name(tier, path, "join");
    join.id = "f-" + join.name;
    label(group.querySelector(".row"), "join", join.id);
    own(group, "button[data-builder]").forEach(function (b) {
      if (b.dataset.builder === "add_group" && depth >= 2) {
        b.remove();
        return;
      }
      b.value = b.dataset.builder + ":" + tier + ":" + path;
    });
    items(group).forEach(function (item, n) {
      var at = path ? path + "." + n : String(n);
      if (item.dataset.kind === "group") {
        number(item, tier, at, depth + 1);
        return;
      }
      item.querySelectorAll("[data-field]").forEach(function (el) {
        el.name = name(tier, at, el.dataset.field);
        el.id = "f-" + el.name;
        label(item, el.dataset.field, el.id);
      });
      item.querySelectorAll("button[data-builder=remove]").forEach(function (b) {
        b.value = "remove:" + tier + ":" + at;
      });
      shape(item);
    });
  }

  function renumber(tree) {
    number(tree.querySelector(".builder-group"), tree.dataset.tier, "", 0);
  }

  function shape(row) {
    // The second value only for "between"; no value for "is empty".
    var op = row.querySelector("[data-field=op]").value;
    row.querySelector(".value2").hidden = op.indexOf("between") < 0;
    row.querySelector(".value1").hidden = op.indexOf("null") >= 0;
    var ind = row.querySelector("[data-field=ind]");
    var chosen = ind.options[ind.selectedIndex];
    row.querySelector(".help").textContent = chosen ? chosen.dataset.help || "" : "";
  }

  function count() {
    var body = new URLSearchParams(new FormData(form));
    body.delete("action");
    var mine = ++asked;
    fetch(countUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: body.toString()
    }).then(function (response) {
      return response.json();
    }).then(function (data) {
      if (mine !== asked) {
        return;  // a later edit asked again
      }
      var panel = document.getElementById("rule-panel");
      if (data.error) {
        panel.textContent = "";
        var p = document.createElement("p");
        p.className = (data.kind === "info" ? "text-body-secondary" : "text-danger") + " small mb-0";
        p.textContent = data.error;
        panel.appendChild(p);
        return;
      }
      panel.innerHTML = data.panel;  // rendered and escaped by the server's template
      Object.keys(data.tiers).forEach(function (i) {
        var line = document.getElementById("count-" + i);
        if (line) {
          line.innerHTML = data.tiers[i];
        }
        var text = form.querySelector(".builder[data-tier='" + i + "'] .builder-text");
        if (text && data.when[i] !== undefined) {
          text.value = data.when[i];
        }
      });
      form.dataset.counted = String(mine);
    }).catch(function () {
      /* the Count button still works by posting the form */
    });
  }

  function later() {
    if (!counting) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(count, 600);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) {
      return;
    }
    if (button.id === "count-button") {
      event.preventDefault();
      count();
      return;
    }
    var kind = button.dataset.builder;
    if (!kind) {
      return;  // other buttons post the form
    }
    event.preventDefault();
    var tree = button.closest(".builder-tree");
    var made = null;
    if (kind === "remove") {
      button.closest(".builder-item").remove();
    } else {
      var group = button.closest(".builder-group");
      made = template(kind === "add_row" ? "builder-row-template" : "builder-group-template");
      if (made && kind === "add_group") {
        own(made, "[data-field=join]")[0].value =
          own(group, "[data-field=join]")[0].value === "and" ? "or" : "and";
      }
      if (made) {
        group.querySelector(".builder-items").appendChild(made);
      }
    }
    renumber(tree);
    later();
    if (made) {
      made.querySelector("[data-field=ind]").focus();
    }
  });

  form.addEventListener("change", function (event) {
    var row = event.target.closest(".builder-row");
    if (row) {
      shape(row);
    }
    later();
  });
  form.addEventListener("input", later);

  form.querySelectorAll(".builder-tree").forEach(renumber);
  if (counting) {
    count();
  }
})();
