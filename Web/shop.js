// Booking Rush customer flow: event → waiting room → sign in → reserve → pay → confirmation.
// Plain browser JavaScript against the gateway's public API; state lives in sessionStorage.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var match = window.location.pathname.match(/^\/shop\/([^/]+)\/?$/);
  var eventID = match ? decodeURIComponent(match[1]) : null;
  var store = {
    get: function (key) { try { return JSON.parse(sessionStorage.getItem(key)); } catch (e) { return null; } },
    set: function (key, value) { if (value == null) sessionStorage.removeItem(key); else sessionStorage.setItem(key, JSON.stringify(value)); }
  };
  var passKey = 'br-pass-' + eventID, bookingKey = 'br-booking-' + eventID;
  var event = null, countdown = null;

  function show(step) {
    ['queue', 'signin', 'reserve', 'pay', 'done'].forEach(function (id) { $(id).hidden = id !== step; });
  }

  function say(text, kind) {
    var box = $('message');
    box.hidden = !text;
    box.className = 'message ' + (kind || 'error');
    box.textContent = text || '';
  }

  function money(minor, currency) {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'EUR' }).format(minor / 100);
  }

  function key() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // Calls the gateway; resolves with the JSON body, rejects with the problem's detail.
  function api(method, path, body, options) {
    options = options || {};
    var headers = { 'Accept': 'application/json' };
    var session = store.get('br-session');
    if (session) headers['Authorization'] = 'Bearer ' + session.access_token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    var pass = store.get(passKey);
    if (options.pass && pass) headers['Queue-Pass'] = pass;
    return fetch(path, { method: method, headers: headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (response.ok) return json;
          var problem = json || {};
          var error = new Error(problem.detail || problem.title || ('HTTP ' + response.status));
          error.status = response.status;
          error.type = problem.type || '';
          throw error;
        });
      });
  }

  function renderEvent() {
    $('event').hidden = false;
    $('event-name').textContent = event.name;
    $('event-venue').textContent = event.venue;
    $('event-date').textContent = new Date(event.starts_at).toLocaleString();
    $('event-max').textContent = event.max_per_user;
    $('quantity').max = event.max_per_user;
    var rows = $('zones'), select = $('zone');
    rows.textContent = '';
    select.textContent = '';
    (event.zones || []).forEach(function (zone) {
      var row = rows.insertRow();
      row.dataset.zone = zone.id;
      row.insertCell().textContent = zone.name;
      var price = row.insertCell(); price.className = 'number'; price.textContent = money(zone.price_minor, zone.currency);
      var left = row.insertCell(); left.className = 'number'; left.textContent = zone.available == null ? '—' : zone.available;
      var option = document.createElement('option');
      option.value = zone.id;
      option.textContent = zone.name + ' · ' + money(zone.price_minor, zone.currency);
      option.disabled = zone.available === 0;
      select.appendChild(option);
    });
  }

  function refreshEvent() {
    return api('GET', '/api/v1/events/' + encodeURIComponent(eventID)).then(function (body) { event = body; renderEvent(); });
  }

  function showWho() {
    var session = store.get('br-session');
    $('who').textContent = session ? 'Signed in as ' + session.account.email : '';
  }

  function next() {
    showWho();
    var booking = store.get(bookingKey);
    if (booking && booking.status === 'confirmed') return showDone(booking);
    if (booking && (booking.status === 'reserved' || booking.status === 'payment_pending')) return showPay(booking);
    if (!store.get(passKey)) return show('queue');
    if (!store.get('br-session')) return show('signin');
    show('reserve');
  }

  function showPay(booking) {
    show('pay');
    var zone = (event.zones || []).filter(function (z) { return z.id === booking.zone_id; })[0];
    $('hold-summary').textContent = booking.quantity + ' × ' + (zone ? zone.name : booking.zone_id);
    $('pay-amount').textContent = money(booking.total, booking.currency);
    clearInterval(countdown);
    var tick = function () {
      var seconds = Math.max(0, Math.round((new Date(booking.expires_at) - Date.now()) / 1000));
      $('hold-countdown').textContent = Math.floor(seconds / 60) + ':' + String(seconds % 60).padStart(2, '0');
      if (seconds === 0) { clearInterval(countdown); store.set(bookingKey, null); say('Your hold ended and the seats went back on sale.'); refreshEvent().then(next); }
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  function showDone(booking) {
    clearInterval(countdown);
    show('done');
    $('confirmation-code').textContent = booking.confirmation_code;
    $('done-summary').textContent = booking.quantity + ' seat(s), ' + money(booking.total, booking.currency) + ' paid. Booking ' + booking.booking_id;
  }

  function busy(button, promise) {
    button.disabled = true;
    return promise.then(function (value) { button.disabled = false; return value; }, function (error) { button.disabled = false; throw error; });
  }

  function signIn(register) {
    var credentials = { email: $('email').value.trim(), password: $('password').value };
    say('');
    var start = register ? api('POST', '/api/v1/auth/register', credentials) : Promise.resolve();
    return start
      .then(function () { return api('POST', '/api/v1/auth/login', credentials); })
      .then(function (session) { store.set('br-session', session); next(); })
      .catch(function (error) { say(error.message); });
  }

  function reserve() {
    say('');
    var request = { event_id: eventID, zone_id: $('zone').value, quantity: Number($('quantity').value) };
    var attempt = store.get('br-reserve-attempt');
    if (!attempt || JSON.stringify(attempt.request) !== JSON.stringify(request)) attempt = { request: request, key: key() };
    store.set('br-reserve-attempt', attempt);
    return api('POST', '/api/v1/bookings/reserve', request, { idempotencyKey: attempt.key, pass: true })
      .then(function (booking) { store.set('br-reserve-attempt', null); store.set(bookingKey, booking); refreshEvent().then(next); })
      .catch(function (error) {
        if (error.status === 401) { store.set('br-session', null); next(); }
        if (error.status === 403 && /pass/i.test(error.type + error.message)) { store.set(passKey, null); next(); }
        if (error.status !== 409 && error.status !== 429 && error.status < 500) store.set('br-reserve-attempt', null);
        say(error.message);
      });
  }

  // Polls the booking until the payment's webhook has confirmed (or cancelled) it.
  function awaitConfirmation(booking, tries) {
    return api('GET', '/api/v1/bookings/' + booking.booking_id).then(function (latest) {
      store.set(bookingKey, latest);
      if (latest.status === 'confirmed') return showDone(latest);
      if (latest.status === 'cancelled' || latest.status === 'expired') {
        store.set(bookingKey, null);
        say('The booking was ' + latest.status + '. Your seats went back on sale.');
        return refreshEvent().then(next);
      }
      if (tries <= 0) { say('Payment is still processing. This page will update when it settles.', 'info'); tries = 1; }
      return new Promise(function (resolve) { setTimeout(resolve, 500); }).then(function () { return awaitConfirmation(latest, tries - 1); });
    });
  }

  function pay() {
    say('');
    var booking = store.get(bookingKey);
    var method = $('card').value.replace(/\s+/g, '');
    return api('POST', '/api/v1/payments/intent', { booking_id: booking.booking_id }, { idempotencyKey: 'intent-' + booking.booking_id })
      .then(function (intent) {
        if (intent.status !== 'requires_confirmation') return intent;
        return api('POST', '/api/v1/payments/intent/confirm', { payment_id: intent.payment_id, payment_method: method }, { idempotencyKey: 'confirm-' + intent.payment_id });
      })
      .then(function (intent) {
        if (intent.status === 'failed') say('Payment declined (' + (intent.failure || 'card declined') + ').');
        else if (intent.status === 'processing') say('Payment is processing…', 'info');
        return awaitConfirmation(booking, 60);
      })
      .catch(function (error) { say(error.message); });
  }

  function cancel() {
    var booking = store.get(bookingKey);
    return api('POST', '/api/v1/bookings/' + booking.booking_id + '/cancel', {}, { idempotencyKey: 'cancel-' + booking.booking_id })
      .then(function () { store.set(bookingKey, null); say('Seats released.', 'info'); return refreshEvent().then(next); })
      .catch(function (error) { say(error.message); });
  }

  // The waiting room hands the pass over by cookie, never in the URL: ask the queue whether this
  // visitor (by their ticket cookie, not their account) was admitted, and keep the pass it gives.
  function collectPass() {
    if (store.get(passKey)) return Promise.resolve();
    return fetch('/api/v1/queue/' + encodeURIComponent(eventID) + '/status', { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (place) { if (place && place.status === 'admitted' && place.pass) store.set(passKey, place.pass); })
      .catch(function () {});
  }

  function listEvents() {
    $('events').hidden = false;
    api('GET', '/api/v1/events').then(function (body) {
      var list = $('event-list');
      (body.events || []).forEach(function (item) {
        var entry = document.createElement('li'), link = document.createElement('a');
        link.href = '/shop/' + encodeURIComponent(item.id);
        link.textContent = item.name + ' — ' + item.venue + ', ' + new Date(item.starts_at).toLocaleDateString();
        entry.appendChild(link);
        list.appendChild(entry);
      });
      if (!list.children.length) list.textContent = 'Nothing on sale right now.';
    }).catch(function (error) { say(error.message); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if (!eventID) return listEvents();
    $('join').href = '/waiting-room/' + encodeURIComponent(eventID);
    $('signin-form').addEventListener('submit', function (e) { e.preventDefault(); busy($('login'), signIn(false)); });
    $('register').addEventListener('click', function () { if ($('signin-form').reportValidity()) busy($('register'), signIn(true)); });
    $('reserve-form').addEventListener('submit', function (e) { e.preventDefault(); busy($('reserve-button'), reserve()); });
    $('pay-form').addEventListener('submit', function (e) { e.preventDefault(); busy($('pay-button'), pay()); });
    $('cancel-button').addEventListener('click', function () { busy($('cancel-button'), cancel()); });
    $('again').addEventListener('click', function () { store.set(bookingKey, null); refreshEvent().then(next); });
    refreshEvent().then(collectPass).then(next).catch(function (error) { say(error.status === 404 ? 'No such event.' : error.message); });
  });
})();
