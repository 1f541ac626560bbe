/* The public ledger log's formats, checked to the specs in the browser: RFC 6962 §2.1 (leaf and
 * node hashes; the inclusion-proof verification of RFC 9162 §2.1.3.2, which checks RFC 6962's
 * audit paths), C2SP signed-note, tlog-checkpoint and tlog-cosignature, and the receipt's keyed
 * reference of docs/transparency.md. WebCrypto does all hashing and the Ed25519 checks. Shares no
 * code with the server. Used by ledger_verify.js (the 核验 page) and by tests feeding it vectors.
 */
(function () {
  "use strict";

  var encoder = new TextEncoder();
  var REF_DOMAIN = "xiangzhu-ledger-ref/v1\n";
  var ALG_ED25519 = 0x01;
  var ALG_COSIGNATURE_V1 = 0x04;

  // ---- bytes -------------------------------------------------------------------------------

  function concat() {
    var total = 0, i;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    var out = new Uint8Array(total), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // Standard, padded base64 only (signed notes and the API use it); anything else is refused.
  function fromBase64(text) {
    if (typeof text !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
      return null;
    }
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }

  // ---- RFC 6962 §2.1 -----------------------------------------------------------------------

  function leafHash(leafBytes) { return sha256(concat(new Uint8Array([0]), leafBytes)); }
  function nodeHash(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

  function half(n) { return Math.floor(n / 2); }
  function odd(n) { return n % 2 === 1; }

  /* The root an audit path leads to from leaf `index` of a tree of `size` leaves, or null when
     the path cannot belong to such a tree (RFC 9162 §2.1.3.2, the algorithm that checks the
     audit paths RFC 6962 §2.1.1 defines). Indices stay exact up to 2^53 with halving. */
  async function rootFromInclusionProof(index, size, hash, path) {
    if (!(index >= 0 && index < size)) return null;
    var fn = index, sn = size - 1, r = hash;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) return null;
      if (odd(fn) || fn === sn) {
        r = await nodeHash(path[i], r);
        if (!odd(fn)) {
          while (!odd(fn) && fn !== 0) { fn = half(fn); sn = half(sn); }
        }
      } else {
        r = await nodeHash(r, path[i]);
      }
      fn = half(fn); sn = half(sn);
    }
    return sn === 0 ? r : null;
  }

  // ---- C2SP signed-note, tlog-checkpoint, tlog-cosignature ---------------------------------

  async function keyId(name, algorithm, publicKey) {
    var digest = await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([algorithm]), publicKey));
    return digest.slice(0, 4);
  }

  /* A verifier key string `<name>+<key ID hex>+<base64(alg ‖ public key)>`, its key ID
     recomputed; null when malformed. */
  async function parseVerifierKey(text, algorithm) {
    // <name>+<hex>+<base64>: split at the first two "+" only, the base64 may hold a "+" too
    var match = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec((text || "").trim());
    if (!match) return null;
    var parts = match.slice(1);
    var raw = fromBase64(parts[2]);
    if (!raw || raw.length !== 33 || raw[0] !== algorithm) return null;
    var publicKey = raw.slice(1);
    var id = await keyId(parts[0], algorithm, publicKey);
    if (hex(id) !== parts[1]) return null;
    return { name: parts[0], id: id, publicKey: publicKey, text: text.trim() };
  }

  /* A signed note: the text (ending in a newline) up to the last blank line, then signature
     lines `— <name> <base64>`. */
  function parseNote(text) {
    var split = text.lastIndexOf("\n\n");
    if (split < 0 || !text.endsWith("\n")) return null;
    var body = text.slice(0, split + 1);
    var lines = text.slice(split + 2).split("\n");
    lines.pop();  // after the last newline
    var signatures = [];
    for (var i = 0; i < lines.length; i++) {
      var match = /^\u2014 (\S+) (\S+)$/.exec(lines[i]);
      if (!match) return null;
      var raw = fromBase64(match[2]);
      if (!raw || raw.length < 5) return null;
      signatures.push({ name: match[1], id: raw.slice(0, 4), rest: raw.slice(4) });
    }
    if (!signatures.length) return null;
    return { body: body, signatures: signatures };
  }

  function parseCheckpoint(body) {
    var lines = body.split("\n");
    if (lines.length < 4 || !lines[0]) return null;
    if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) return null;
    var rootHash = fromBase64(lines[2]);
    if (!rootHash || rootHash.length !== 32) return null;
    var size = Number(lines[1]);
    if (!Number.isSafeInteger(size)) return null;
    return { origin: lines[0], size: size, rootHash: rootHash };
  }

  async function ed25519Verify(publicKey, signature, message) {
    var key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  async function platformSignatureHolds(note, key) {
    for (var i = 0; i < note.signatures.length; i++) {
      var s = note.signatures[i];
      if (s.name === key.name && equalBytes(s.id, key.id) && s.rest.length === 64 &&
          await ed25519Verify(key.publicKey, s.rest, encoder.encode(note.body))) {
        return true;
      }
    }
    return false;
  }

  /* Every signature line that is not the platform's counts as a witness's cosignature; those of
     the witnesses whose keys this page carries are verified (cosignature/v1). */
  async function cosignatures(note, platformKey, witnessKeys) {
    var seen = 0, verified = 0;
    for (var i = 0; i < note.signatures.length; i++) {
      var s = note.signatures[i];
      if (s.name === platformKey.name) continue;
      seen += 1;
      for (var j = 0; j < witnessKeys.length; j++) {
        var w = witnessKeys[j];
        if (s.name !== w.name || !equalBytes(s.id, w.id) || s.rest.length !== 72) continue;
        var seconds = 0;
        for (var b = 0; b < 8; b++) seconds = seconds * 256 + s.rest[b];
        var message = encoder.encode("cosignature/v1\ntime " + seconds + "\n" + note.body);
        if (await ed25519Verify(w.publicKey, s.rest.slice(8), message)) { verified += 1; break; }
      }
    }
    return { seen: seen, verified: verified };
  }

  // ---- the receipt -------------------------------------------------------------------------

  /* `leaf=<i>&ref=<source_ref>&salt=<hex>` from a fragment, a whole link or any pasted text. */
  function parseReceipt(text) {
    var leaf = /(?:^|[#&?\s])leaf=(\d+)/.exec(text || "");
    var ref = /(?:^|[#&?\s])ref=([^&\s#]+)/.exec(text || "");
    var salt = /(?:^|[#&?\s])salt=([0-9a-fA-F]{64})(?![0-9a-fA-F])/.exec(text || "");
    if (!leaf || !ref || !salt) return null;
    var sourceRef;
    try { sourceRef = decodeURIComponent(ref[1]); } catch (e) { return null; }
    var index = Number(leaf[1]);
    if (!Number.isSafeInteger(index)) return null;
    return { index: index, sourceRef: sourceRef, salt: salt[1].toLowerCase() };
  }

  async function refCommitment(salt, kind, sourceRef) {
    return hex(await sha256(encoder.encode(REF_DOMAIN + salt + "\n" + kind + "\n" + sourceRef)));
  }

  window.xiangzhuLedgerVerify = {
    ALG_ED25519: ALG_ED25519, ALG_COSIGNATURE_V1: ALG_COSIGNATURE_V1, encoder: encoder,
    equalBytes: equalBytes, hex: hex, fromBase64: fromBase64,
    leafHash: leafHash, nodeHash: nodeHash, rootFromInclusionProof: rootFromInclusionProof,
    parseVerifierKey: parseVerifierKey, parseNote: parseNote, parseCheckpoint: parseCheckpoint,
    platformSignatureHolds: platformSignatureHolds, cosignatures: cosignatures,
    parseReceipt: parseReceipt, refCommitment: refCommitment
  };
})();
