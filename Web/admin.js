// Booking Rush operator console: live room figures, traffic and sales, with room controls, and
// the gateway's route table, which it can reload from its file.
// Talks to the gateway's admin API (/admin/v1) and, for sales, the booking service through the gateway.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var series = {};
  var sections = {};
  var polling = false;
  var refreshCount = 0;
  var routesDigest = null;

  function session() { try { return JSON.parse(sessionStorage.getItem('br-admin')); } catch (e) { return null; } }
  function setSession(value) { if (value) sessionStorage.setItem('br-admin', JSON.stringify(value)); else sessionStorage.removeItem('br-admin'); }

  function say(text, kind) {
    var box = $('message');
    box.hidden = !text;
    box.className = 'message ' + (kind || 'error');
    box.textContent = text || '';
  }

  function api(method, path, body) {
    var headers = { 'Accept': 'application/json' };
    var current = session();
    if (current) headers['Authorization'] = 'Bearer ' + current.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (response.ok) return json;
        var error = new Error((json && (json.detail || json.title)) || ('HTTP ' + response.status));
        error.status = response.status;
        throw error;
      });
    });
  }

  function number(value, digits) {
    return value == null ? '—' : Number(value).toLocaleString(undefined, { maximumFractionDigits: digits || 0 });
  }

  function spark(element, values, className) {
    var max = Math.max.apply(null, values.concat([1]));
    element.textContent = '';
    values.forEach(function (value) {
      var bar = document.createElement('i');
      if (className) bar.className = className;
      bar.style.height = Math.round(100 * value / max) + '%';
      element.appendChild(bar);
    });
  }

  function remember(list, value) { list.push(value); if (list.length > 60) list.shift(); }

  function renderTraffic(traffic) {
    var seconds = Math.max(1, traffic.window_seconds);
    $('traffic-rps').textContent = number(traffic.total / seconds, 1);
    $('traffic-4xx').textContent = number(traffic.client_errors / seconds, 2);
    $('traffic-429').textContent = number(traffic.rate_limited / seconds, 2);
    $('traffic-5xx').textContent = number(traffic.server_errors / seconds, 2);
    $('traffic-error-rate').textContent = traffic.total ? (100 * traffic.server_errors / traffic.total).toFixed(2) + '%' : '0%';
    spark($('traffic-spark'), traffic.per_second.map(function (s) { return s.total; }));
    var count = traffic.instances.length;
    $('traffic-scope').textContent = traffic.scope === 'fleet'
      ? 'all ' + count + ' gateway' + (count === 1 ? '' : 's') + ' of the fleet' : 'this gateway only (the fleet view is unavailable)';
    var milliseconds = function (value) { return value == null ? '—' : (value < 1 ? value.toFixed(2) : number(value, 1)) + ' ms'; };
    table('traffic-routes', traffic.routes, function (route) {
      return [route.route, number(route.total / seconds, 1), number(route.client_errors / seconds, 2), number(route.rate_limited / seconds, 2),
              number(route.server_errors / seconds, 2), milliseconds(route.p50_ms), milliseconds(route.p99_ms)];
    });
    var now = Date.now() / 1000;
    table('traffic-instances', traffic.instances, function (instance) {
      var name = instance.instance + (instance.name_shared ? ' (name shared by two gateway processes: give each its own GATEWAY_INSTANCE)' : '');
      return [name, number(instance.total / seconds, 1), number(instance.client_errors / seconds, 2),
              number(instance.server_errors / seconds, 2), Math.max(0, Math.round(now - instance.reported_at)) + ' s ago', tableStamp(instance.route_table)];
    });
  }

  // A table's rows, one per item; every cell but the first is a right-aligned figure unless `text`.
  function table(id, items, cells, text) {
    var rows = $(id).querySelector('tbody');
    rows.textContent = '';
    items.forEach(function (item) {
      var row = rows.insertRow();
      cells(item).forEach(function (value, index) {
        var cell = row.insertCell();
        if (index > 0 && !text) cell.className = 'number';
        cell.textContent = value;
      });
    });
  }

  // Which route table an instance runs, flagged when it is not the one this gateway runs or when its
  // latest reload failed.
  function tableStamp(stamp) {
    if (!stamp) return '—';
    return stamp.digest.slice(0, 12) + ' · gen ' + stamp.generation + (routesDigest && stamp.digest !== routesDigest ? ' (differs)' : '')
      + (stamp.reload_failed ? ' · last reload failed: ' + stamp.reload_failed : '');
  }

  function policies(route) {
    var items = [];
    if (route.local) items.push('answered by the gateway');
    if (route.auth === 'required') items.push('access token' + (route.roles.length ? ' (' + route.roles.join(', ') + ')' : ''));
    route.rate_limits.forEach(function (rule) {
      items.push(rule.name + ' ' + number(rule.limit) + ' per ' + number(rule.period_s, 2) + ' s' + (rule.scope === 'instance' ? ' per instance' : ''));
    });
    if (route.idempotency !== 'off') items.push('Idempotency-Key ' + route.idempotency);
    if (route.queue_pass) items.push('queue pass' + (route.queue_pass.single_use ? ' (single use)' : ''));
    return items.join(' · ') || '—';
  }

  function renderRoutes(body) {
    routesDigest = body.digest;
    $('routes-instance').textContent = body.instance;
    $('routes-generation').textContent = body.generation;
    $('routes-digest').textContent = body.digest.slice(0, 12);
    $('routes-loaded').textContent = new Date(body.loaded_at).toLocaleTimeString();
    $('routes-source').textContent = body.source
      ? 'Read from ' + body.source + '; SIGHUP reads it again, this button has every gateway of the fleet read its own, without dropping a connection.'
      : 'This gateway started without a route file: there is nothing to reload.';
    $('routes-reload').disabled = !body.source;
    table('routes-table', body.table.routes, function (route) {
      return [route.name, route.prefix, route.methods ? route.methods.join(', ') : 'any', route.upstreams.join(', ') || '—', policies(route)];
    }, true);
  }

  function reloadRoutes() {
    return api('POST', '/admin/v1/routes/reload?scope=fleet').then(function (body) {
      renderRoutes(body);
      say('Route table reloaded: generation ' + body.generation + ' here, ' + body.table.routes.length +
        ' routes in force; the fleet\'s other gateways reload their own file within a second (see Gateways).', 'info');
    }).catch(function (error) { say(error.message); });
  }

  function roomSection(event) {
    if (sections[event]) return sections[event];
    var node = $('room-template').content.firstElementChild.cloneNode(true);
    node.dataset.event = event;
    node.querySelector('.room-event').textContent = event;
    var rate = node.querySelector('.room-rate');
    node.querySelector('.room-controls').addEventListener('submit', function (e) {
      e.preventDefault();
      rate.dataset.editing = '';
      api('PATCH', '/admin/v1/rooms/' + encodeURIComponent(event), { release_rate: Number(rate.value) })
        .then(function () { say('Release rate of ' + event + ' set to ' + rate.value + '/s.', 'info'); refresh(); })
        .catch(function (error) { say(error.message); });
    });
    rate.addEventListener('input', function () { rate.dataset.editing = '1'; });
    node.querySelectorAll('button[data-action]').forEach(function (button) {
      button.addEventListener('click', function () {
        var action = button.dataset.action;
        if (action === 'close' && !window.confirm('Close ' + event + '? New visitors will be turned away.')) return;
        api('POST', '/admin/v1/rooms/' + encodeURIComponent(event) + '/' + action)
          .then(function () { say(event + ': ' + action + ' done.', 'info'); refresh(); })
          .catch(function (error) { say(error.message); });
      });
    });
    $('rooms').appendChild(node);
    sections[event] = node;
    series[event] = [];
    return node;
  }

  function renderRoom(body) {
    var room = body.room, stats = body.stats, node = roomSection(room.event);
    var text = function (selector, value) { node.querySelector(selector).textContent = value; };
    node.room = room;
    var mode = node.querySelector('.room-mode');
    mode.textContent = room.configuration.mode;
    mode.className = 'badge room-mode ' + room.configuration.mode;
    text('.room-waiting', number(stats.waiting));
    text('.room-prequeue', number(stats.prequeue));
    text('.room-active', number(stats.active_passes) + (room.configuration.max_active ? ' / ' + number(room.configuration.max_active) : ''));
    text('.room-observed', number(stats.observed_rate, 1));
    text('.room-configured', number(stats.configured_rate, 1));
    text('.room-released', number(stats.released_total));
    text('.room-abandoned', number(stats.abandoned_total));
    text('.room-oldest', stats.oldest_wait_ms ? Math.round(stats.oldest_wait_ms / 1000) + ' s' : '—');
    var rate = node.querySelector('.room-rate');
    if (!rate.dataset.editing && document.activeElement !== rate) rate.value = room.configuration.release_rate;
    remember(series[room.event], stats.waiting);
    spark(node.querySelector('.room-spark'), series[room.event]);
  }

  var SVG = 'http://www.w3.org/2000/svg';

  function svgNode(name, attributes) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  // Draws `series` (lists of values at the samples' times) into a 600×100 chart, scaled to their common maximum.
  function chart(svg, times, series, markers) {
    svg.textContent = '';
    svg.dataset.points = String(times.length);
    if (times.length === 0) return;
    markers = markers || [];
    var first = Math.min.apply(null, [times[0]].concat(markers.map(function (m) { return m.at; })));
    var span = Math.max(1, Math.max(times[times.length - 1], first) - first);
    var max = Math.max.apply(null, [1].concat.apply([], series.map(function (s) { return s.values; })).concat(markers.map(function (m) { return m.to; })));
    var x = function (t) { return (600 * (t - first) / span).toFixed(1); };
    var y = function (v) { return (98 - 96 * v / max).toFixed(1); };
    series.forEach(function (s) {
      svg.appendChild(svgNode('polyline', { 'class': s.name, points: s.values.map(function (v, i) { return x(times[i]) + ',' + y(v); }).join(' ') }));
    });
    markers.forEach(function (m) {
      var dot = svgNode('circle', { 'class': m.action, cx: x(m.at), cy: y(m.to), r: 3 });
      dot.appendChild(svgNode('title', {})).textContent = m.action + ' ' + m.from + ' → ' + m.to + '/s: ' + m.reason;
      svg.appendChild(dot);
    });
  }

  function renderHistory(event, body) {
    var node = roomSection(event), times = body.samples.map(function (s) { return s.at; });
    chart(node.querySelector('.room-rate-chart'), times, [
      { name: 'configured', values: body.samples.map(function (s) { return s.configured; }) },
      { name: 'observed', values: body.samples.map(function (s) { return s.observed; }) }
    ], body.decisions);
    chart(node.querySelector('.room-depth-chart'), times, [
      { name: 'depth', values: body.samples.map(function (s) { return s.waiting + s.prequeue; }) }
    ]);
  }

  function renderSales(event, body) {
    var node = roomSection(event), names = node.zoneNames || {};
    var ids = Object.keys(body.samples.length ? body.samples[body.samples.length - 1].zones : {}).sort();
    chart(node.querySelector('.room-sales-chart'), body.samples.map(function (s) { return s.at; }), ids.map(function (id, index) {
      return { name: 'zone-' + (index % 6), values: body.samples.map(function (s) { return s.zones[id] ? s.zones[id].sold : 0; }) };
    }));
    var legend = node.querySelector('.room-sales-legend');
    legend.textContent = '';
    ids.forEach(function (id, index) {
      var item = document.createElement('span');
      item.className = 'zone-' + (index % 6);
      item.textContent = (index ? ' · ' : '') + (names[id] || id);
      legend.appendChild(item);
    });
  }

  function renderAdaptive(event, body) {
    var node = roomSection(event);
    var line = node.querySelector('.room-adaptive'), list = node.querySelector('.room-decisions');
    list.textContent = '';
    if (!body || !body.adaptive) {
      line.textContent = 'Adaptive release: off (the rate is set by hand).';
      return;
    }
    var a = body.adaptive, h = body.health;
    line.textContent = 'Adaptive release: on, ' + number(a.min_rate, 1) + '–' + number(a.max_rate, 1) + '/s for a p99 under ' +
      number(a.p99_target_ms) + ' ms and errors under ' + (100 * a.error_budget).toFixed(1) + '%; upstream now: p99 ' +
      (h.p99_ms == null ? '—' : number(h.p99_ms) + ' ms') + ', ' + (100 * h.error_rate).toFixed(1) + '% errors (' +
      number(h.samples) + ' responses in ' + h.window_s + ' s).';
    body.decisions.slice(0, 5).forEach(function (decision) {
      var item = document.createElement('li');
      item.dataset.action = decision.action;
      item.textContent = new Date(decision.at).toLocaleTimeString() + ' · ' + decision.action + ' ' + number(decision.from, 1) +
        ' → ' + number(decision.to, 1) + '/s · ' + decision.reason;
      list.appendChild(item);
    });
  }

  function renderZones(event, body, error) {
    var node = roomSection(event);
    var rows = node.querySelector('.room-zones tbody'), note = node.querySelector('.room-zones-note');
    rows.textContent = '';
    note.hidden = !error;
    node.querySelector('.room-zones').hidden = !!error;
    if (error) {
      note.textContent = error.status === 404 ? 'No booking event with this id.'
        : error.status === 401 || error.status === 403 ? 'Sign in with an admin account to see reservations and sales.' : error.message;
      return;
    }
    node.zoneNames = {};
    body.zones.forEach(function (zone) {
      node.zoneNames[zone.id] = zone.name;
      var row = rows.insertRow();
      row.dataset.zone = zone.id;
      row.insertCell().textContent = zone.name;
      [zone.capacity, zone.available, zone.held, zone.sold].forEach(function (value) {
        var cell = row.insertCell(); cell.className = 'number'; cell.textContent = number(value);
      });
      var bar = document.createElement('div'), fill = document.createElement('span');
      bar.className = 'bar';
      fill.style.width = (zone.capacity ? Math.round(100 * zone.sold / zone.capacity) : 0) + '%';
      bar.appendChild(fill);
      row.insertCell().appendChild(bar);
    });
  }

  function refresh() {
    if (polling || !session()) return Promise.resolve();
    polling = true;
    // The history gains a sample every 5 s: fetched on every fifth refresh (and the first).
    var historyDue = refreshCount++ % 5 === 0;
    var traffic = api('GET', '/admin/v1/traffic').then(renderTraffic);
    var routes = historyDue ? api('GET', '/admin/v1/routes').then(renderRoutes) : Promise.resolve();
    var rooms = api('GET', '/admin/v1/rooms').then(function (body) {
      return Promise.all(body.rooms.map(function (room) {
        var path = encodeURIComponent(room.event);
        return Promise.all([
          api('GET', '/admin/v1/rooms/' + path + '/stats').then(renderRoom),
          (room.configuration.adaptive ? api('GET', '/admin/v1/rooms/' + path + '/adaptive') : Promise.resolve(null))
            .then(function (body) { renderAdaptive(room.event, body); }),
          (historyDue ? api('GET', '/admin/v1/rooms/' + path + '/history?limit=720') : Promise.resolve(null))
            .then(function (body) { if (body) renderHistory(room.event, body); }),
          (historyDue ? api('GET', '/api/v1/events/' + path + '/inventory/history?limit=720') : Promise.resolve(null))
            .then(function (body) { if (body) renderSales(room.event, body); }, function () {}),
          api('GET', '/api/v1/events/' + path + '/inventory')
            .then(function (zones) { renderZones(room.event, zones); }, function (error) { renderZones(room.event, null, error); })
        ]);
      }));
    });
    return Promise.all([traffic, routes, rooms]).then(function () {
      $('updated').textContent = new Date().toLocaleTimeString();
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    }).catch(function (error) {
      if (error.status === 401 || error.status === 403) { setSession(null); start(); }
      say(error.message);
    }).then(function () { polling = false; });
  }

  function signIn() {
    var token = $('token').value.trim();
    var login = token
      ? Promise.resolve({ token: token, who: 'admin token' })
      : api('POST', '/api/v1/auth/login', { email: $('email').value.trim(), password: $('password').value })
          .then(function (body) { return { token: body.access_token, who: body.account.email }; });
    return login.then(function (value) {
      setSession(value);
      return api('GET', '/admin/v1/rooms');
    }).then(function () { say(''); start(); }).catch(function (error) { setSession(null); say(error.message); });
  }

  function start() {
    var current = session();
    $('signin').hidden = !!current;
    $('console').hidden = !current;
    $('signout').hidden = !current;
    $('who').textContent = current ? current.who : '';
    if (current) refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', function (e) { e.preventDefault(); signIn(); });
    $('signout').addEventListener('click', function () { setSession(null); start(); });
    $('routes-reload').addEventListener('click', reloadRoutes);
    setInterval(refresh, 1000);
    start();
  });
})();
