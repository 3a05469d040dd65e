// Booking Rush waiting room: finds the proof of work a room asks for, off the page's thread.
// Receives {challenge, difficulty}; answers {nonce} such that SHA-256(challenge + '~' + nonce)
// starts with `difficulty` zero bits.
'use strict';

function zeroBits(bytes) {
  var bits = 0;
  for (var i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) { bits += 8; continue; }
    return bits + Math.clz32(bytes[i]) - 24;
  }
  return bits;
}

self.onmessage = function (message) {
  var challenge = message.data.challenge, difficulty = message.data.difficulty;
  var encoder = new TextEncoder();
  var nonce = 0;
  function batch() {
    var tries = [];
    for (var i = 0; i < 256; i++, nonce++) {
      tries.push((function (candidate) {
        return crypto.subtle.digest('SHA-256', encoder.encode(challenge + '~' + candidate)).then(function (digest) {
          return zeroBits(new Uint8Array(digest)) >= difficulty ? candidate : -1;
        });
      })(nonce));
    }
    return Promise.all(tries).then(function (results) {
      var found = results.filter(function (candidate) { return candidate >= 0; });
      if (found.length) self.postMessage({ nonce: found[0] });
      else batch();
    });
  }
  batch();
};
