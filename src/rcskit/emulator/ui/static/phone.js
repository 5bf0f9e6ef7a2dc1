/* rcskit emulator web UI: keeps the pages live (Server-Sent Events) and sends what the
   simulated user does to the emulator's admin API (/_emulator/phones/{number}/...).
   No framework, no build step, no network access beyond this emulator. */
(function () {
  "use strict";

  var body = document.body;
  var PLACEHOLDER =
    "data:image/svg+xml," +
    encodeURIComponent(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" fill="#e8eaed"/>' +
        '<path d="M12 33l8-9 6 6 4-4 6 7z" fill="#bdc1c6"/><circle cx="19" cy="18" r="3.5" fill="#bdc1c6"/></svg>'
    );

  function $(id) {
    return document.getElementById(id);
  }

  /* ------------------------------------------------------------ common */

  function localTimes(root) {
    var items = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      if (el.dataset.local) continue;
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) continue;
      var opts = el.classList.contains("entry-time")
        ? { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
        : { hour: "2-digit", minute: "2-digit" };
      el.textContent = at.toLocaleTimeString([], opts);
      el.title = at.toLocaleString();
      el.dataset.local = "1";
    }
  }

  /* An image that cannot load (offline, or a dead link) gets a neutral placeholder. */
  function brokenImage(img) {
    if (img.dataset.broken) return;
    img.dataset.broken = "1";
    var holder = img.closest(".media, .file-image");
    if (holder) {
      holder.classList.add("broken");
      holder.setAttribute("title", "Image not available: " + img.getAttribute("src"));
    } else {
      img.src = PLACEHOLDER;
    }
  }

  function checkImages(root) {
    var imgs = (root || document).querySelectorAll("img");
    for (var i = 0; i < imgs.length; i++) {
      var img = imgs[i];
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) brokenImage(img);
    }
  }

  document.addEventListener(
    "error",
    function (event) {
      if (event.target && event.target.tagName === "IMG") brokenImage(event.target);
    },
    true
  );

  function listen(url, handlers) {
    if (!url || !window.EventSource) return null;
    var source = new EventSource(url);
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        handlers[name](JSON.parse(event.data));
      });
    });
    source.addEventListener("open", function () {
      body.classList.remove("disconnected");
    });
    source.addEventListener("error", function () {
      body.classList.add("disconnected");
    });
    return source;
  }

  /* ------------------------------------------------------------ phone list */

  function phoneList() {
    localTimes();
    listen(body.dataset.stream, {
      phones: function (data) {
        var list = $("phone-list");
        list.innerHTML = data.html;
        localTimes(list);
      },
    });
  }

  /* ------------------------------------------------------------ phone page */

  function phonePage() {
    var number = body.dataset.number;
    var bot = body.dataset.bot;
    var actionsUrl =
      body.dataset.admin + "/phones/" + encodeURIComponent(number) + "/actions";
    var conversation = $("conversation");
    var messages = $("messages");
    var chips = $("chips");
    var typing = $("typing");
    var log = $("log");
    var toast = $("toast");
    var sheet = $("sheet");
    var composer = $("composer");
    var input = composer.elements.text;
    var receipts = $("receipts-toggle");
    var online = $("online-toggle");
    var read = {};
    var typingTimer = null;
    var toastTimer = null;
    var lastTypingSent = 0;
    var filter = "all";

    function showToast(text, url) {
      toast.textContent = "";
      var span = document.createElement("span");
      span.textContent = text;
      toast.appendChild(span);
      if (url) {
        var link = document.createElement("a");
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = "Open";
        toast.appendChild(link);
      }
      toast.hidden = false;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(function () {
        toast.hidden = true;
      }, 4500);
    }

    function post(url, payload) {
      return fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: payload === undefined ? undefined : JSON.stringify(payload),
      }).then(function (response) {
        if (response.ok) return response.json();
        return response
          .json()
          .catch(function () {
            return { error: "HTTP " + response.status };
          })
          .then(function (answer) {
            var message = answer.error || "HTTP " + response.status;
            showToast(message);
            throw new Error(message);
          });
      });
    }

    function act(payload) {
      payload.bot_id = bot;
      return post(actionsUrl, payload);
    }

    function nearBottom() {
      return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 120;
    }

    function scrollDown(force) {
      if (force || nearBottom()) conversation.scrollTop = conversation.scrollHeight;
    }

    function settle(root) {
      localTimes(root);
      checkImages(root);
    }

    /* The user reads what is on screen (when read receipts are on). */
    function readVisible() {
      if (!receipts.checked || document.visibilityState !== "visible") return;
      var shown = messages.querySelectorAll('.msg.bot[data-status="delivered"]');
      for (var i = 0; i < shown.length; i++) {
        var id = shown[i].dataset.msg;
        if (read[id]) continue;
        read[id] = true;
        act({ type: "read", msg_id: id }).catch(function () {});
      }
    }

    function setTyping(active, ms) {
      clearTimeout(typingTimer);
      typing.hidden = !active;
      if (active) {
        scrollDown(false);
        typingTimer = setTimeout(function () {
          typing.hidden = true;
        }, Math.max(ms, 500));
      }
    }

    function setPhone(state) {
      online.checked = state.online;
      $("offline-notice").hidden = state.online;
      $("rcs-state").textContent = state.rcs ? "yes" : "no";
    }

    function setChips(html) {
      chips.innerHTML = html;
      chips.hidden = !html;
    }

    function applyFilter() {
      var rows = log.children;
      for (var i = 0; i < rows.length; i++) {
        rows[i].hidden = filter !== "all" && rows[i].dataset.kind !== filter;
      }
    }

    /* The traffic reads in causal order, oldest first: each entry goes to its place by
       data-seq (a webhook can be written after the bot's call it caused). */
    function logAtBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    }

    function addLog(html) {
      var stick = logAtBottom();
      var holder = document.createElement("ol");
      holder.innerHTML = html;
      while (holder.firstChild) {
        var entry = holder.firstChild;
        holder.removeChild(entry);
        if (entry.nodeType !== 1) continue;
        var seq = Number(entry.dataset.seq);
        var after = log.lastElementChild;
        while (after && Number(after.dataset.seq) > seq) after = after.previousElementSibling;
        log.insertBefore(entry, after ? after.nextSibling : log.firstChild);
      }
      while (log.children.length > 300) log.removeChild(log.firstElementChild);
      localTimes(log);
      applyFilter();
      if (stick) log.scrollTop = log.scrollHeight;
    }

    function upsert(item) {
      var existing = document.getElementById(item.id);
      var holder = document.createElement("div");
      holder.innerHTML = item.html;
      var fresh = holder.firstChild;
      if (existing) {
        existing.replaceWith(fresh);
      } else {
        var empty = conversation.querySelector(".empty-conversation");
        if (empty) empty.remove();
        messages.appendChild(fresh);
      }
      settle(fresh);
      return !existing;
    }

    listen(body.dataset.stream, {
      reset: function (data) {
        messages.innerHTML = data.conversation;
        setChips(data.chips);
        setTyping(data.typing.active, data.typing.ms);
        log.innerHTML = data.log;
        setPhone(data.phone);
        settle(document);
        applyFilter();
        scrollDown(true);
        log.scrollTop = log.scrollHeight;
        readVisible();
      },
      messages: function (data) {
        var added = false;
        var stick = nearBottom();
        data.items.forEach(function (item) {
          added = upsert(item) || added;
        });
        if (added) typing.hidden = true;
        scrollDown(added && stick);
        readVisible();
      },
      chips: function (data) {
        setChips(data.html);
        scrollDown(false);
      },
      typing: function (data) {
        setTyping(data.active, data.ms);
      },
      log: function (data) {
        addLog(data.html);
      },
      phone: setPhone,
    });

    /* Taps on chips and card buttons: the platform's "tap", then what a phone would do. */
    document.addEventListener("click", function (event) {
      var target = event.target.closest("[data-tap]");
      if (!target) return;
      event.preventDefault();
      var tap = JSON.parse(target.dataset.tap);
      tap.type = "tap";
      target.classList.add("tapped");
      act(tap)
        .then(function () {
          var action = target.dataset.action;
          if (action === "request_location_push") {
            openSheet("location");
          } else if (target.dataset.kind === "action") {
            showToast(target.dataset.detail, target.dataset.url);
          }
        })
        .catch(function () {})
        .then(function () {
          target.classList.remove("tapped");
        });
    });

    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      input.value = "";
      lastTypingSent = 0;
      act({ type: "text", text: text })
        .then(function () {
          scrollDown(true);
        })
        .catch(function () {
          input.value = text;
        });
    });

    input.addEventListener("input", function () {
      var now = Date.now();
      if (!input.value || now - lastTypingSent < 5000) return;
      lastTypingSent = now;
      act({ type: "typing", active: true }).catch(function () {});
    });

    /* The attachment sheet: share a location or send a file. */
    function openSheet(which) {
      sheet.hidden = false;
      var tabs = sheet.querySelectorAll("[data-sheet-tab]");
      for (var i = 0; i < tabs.length; i++) {
        tabs[i].classList.toggle("active", tabs[i].dataset.sheetTab === which);
      }
      var forms = sheet.querySelectorAll("[data-sheet]");
      for (var j = 0; j < forms.length; j++) {
        forms[j].hidden = forms[j].dataset.sheet !== which;
      }
    }

    sheet.addEventListener("click", function (event) {
      var tab = event.target.closest("[data-sheet-tab]");
      if (tab) openSheet(tab.dataset.sheetTab);
      if (event.target.closest("[data-sheet-close]")) sheet.hidden = true;
      var preset = event.target.closest("[data-preset]");
      if (preset) {
        var parts = preset.dataset.preset.split(",");
        var form = sheet.querySelector('[data-sheet="location"]');
        form.elements.latitude.value = parts[0];
        form.elements.longitude.value = parts[1];
        form.elements.label.value = parts.slice(2).join(",");
      }
    });

    document.querySelector("[data-open-sheet]").addEventListener("click", function () {
      if (sheet.hidden) openSheet("location");
      else sheet.hidden = true;
    });

    sheet.querySelector('[data-sheet="location"]').addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var payload = {
        type: "location",
        latitude: parseFloat(form.elements.latitude.value),
        longitude: parseFloat(form.elements.longitude.value),
      };
      if (form.elements.label.value) payload.label = form.elements.label.value;
      act(payload)
        .then(function () {
          sheet.hidden = true;
        })
        .catch(function () {});
    });

    sheet.querySelector('[data-sheet="file"]').addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      act({
        type: "file",
        url: form.elements.url.value,
        mime_type: form.elements.mime_type.value,
        size: parseInt(form.elements.size.value, 10) || 0,
        name: form.elements.name.value || "file",
      })
        .then(function () {
          sheet.hidden = true;
        })
        .catch(function () {});
    });

    /* Audio messages play in the browser (when the browser can reach the URL). */
    var playing = null;
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-audio]");
      if (!button) return;
      if (playing && playing.button === button) {
        playing.audio.pause();
        return;
      }
      if (playing) playing.audio.pause();
      var audio = new Audio(button.dataset.audio);
      playing = { audio: audio, button: button };
      button.classList.add("playing");
      audio.addEventListener("pause", function () {
        button.classList.remove("playing");
        if (playing && playing.audio === audio) playing = null;
      });
      audio.addEventListener("ended", function () {
        audio.pause();
      });
      audio.play().catch(function () {
        button.classList.remove("playing");
        playing = null;
        showToast("This audio cannot be played here (offline, or an unsupported format).");
      });
    });

    online.addEventListener("change", function () {
      var url =
        body.dataset.admin +
        "/phones/" +
        encodeURIComponent(number) +
        (online.checked ? "/online" : "/offline");
      post(url).catch(function () {
        online.checked = !online.checked;
      });
    });

    var subscribe = $("subscribe-toggle");
    if (subscribe) {
      subscribe.addEventListener("change", function () {
        act({ type: subscribe.checked ? "resubscribe" : "unsubscribe" })
          .then(function () {
            showToast(subscribe.checked ? "Subscribed again" : "Unsubscribed from this bot");
          })
          .catch(function () {
            subscribe.checked = !subscribe.checked;
          });
      });
    }

    receipts.addEventListener("change", readVisible);
    document.addEventListener("visibilitychange", readVisible);

    var picker = document.querySelector("[data-autosubmit]");
    if (picker) {
      picker.addEventListener("change", function () {
        picker.form.submit();
      });
    }

    document.querySelector(".filters").addEventListener("click", function (event) {
      var button = event.target.closest("[data-filter]");
      if (!button) return;
      filter = button.dataset.filter;
      var all = this.querySelectorAll("[data-filter]");
      for (var i = 0; i < all.length; i++) all[i].classList.toggle("active", all[i] === button);
      applyFilter();
    });

    var clock = document.querySelector("[data-clock]");
    function tick() {
      clock.textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    tick();
    setInterval(tick, 30000);

    if (!typing.hidden) setTyping(true, 20000);
    settle(document);
    scrollDown(true);
    readVisible();
  }

  if (body.classList.contains("page-phone")) phonePage();
  else if (body.classList.contains("page-list")) phoneList();
})();
