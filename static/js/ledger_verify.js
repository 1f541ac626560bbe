/* 核验: a donor's receipt checked in the donor's own browser against the public ledger log.
 *
 * Built to the specs, sharing no code with the server: RFC 6962 §2.1 (leaf and node hashes,
 * the inclusion-proof verification of RFC 9162 §2.1.3.2, which checks RFC 6962's audit paths),
 * C2SP signed-note, tlog-checkpoint and tlog-cosignature, and docs/transparency.md (the leaf and
 * its keyed reference). WebCrypto does all hashing and the Ed25519 checks. The server only hands
 * out public data; nothing here trusts its word: every answer is recomputed or its signature
 * checked against the platform key printed on this page.
 */
(function () {
  "use strict";

  var encoder = new TextEncoder();
  var REF_DOMAIN = "xiangzhu-ledger-ref/v1\n";
  var ALG_ED25519 = 0x01;
  var ALG_COSIGNATURE_V1 = 0x04;
  var RETRY_SECONDS = 15;
  var RETRIES = 8;

  var STEP_LABELS = {
    checkpoint: "读取最新的签名检查点",
    signature: "用平台公钥核验检查点的签名",
    leaf: "读取账本中的这条记录",
    root: "用包含证明重算账本根，与签名的根比对",
    receipt: "用凭证重算记录的承诺，与账本记录比对"
  };
  var STEP_ORDER = ["checkpoint", "signature", "leaf", "root", "receipt"];

  function Failure(step, title, detail, pending) {
    this.step = step;
    this.title = title;
    this.detail = detail || "";
    this.pending = !!pending;
  }

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

  function yuan(fen) {
    var sign = fen < 0 ? "-" : "", abs = Math.abs(fen);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = abs % 100;
    return sign + "¥" + whole + "." + (cents < 10 ? "0" : "") + cents;
  }

  function chinaTime(utc) {
    var moment = new Date(utc);
    if (isNaN(moment.getTime())) return utc;
    return moment.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) + "（北京时间）";
  }

  // ---- talking to the log ------------------------------------------------------------------

  async function fetchText(url, step) {
    var response;
    try {
      response = await fetch(url, { cache: "no-cache", credentials: "omit" });
    } catch (e) {
      throw new Failure(step, "无法连接公开账本", "网络中断或服务器无响应，请稍后重试。");
    }
    if (response.status === 404 && step === "checkpoint") {
      throw new Failure(step, "该条尚未记入公开账本", "账本还没有签名的检查点。捐款通常在 1 分钟内记入，稍后将自动重试。", true);
    }
    if (!response.ok) {
      throw new Failure(step, "无法读取公开账本", "服务器返回 " + response.status + "，请稍后重试。");
    }
    return response.text();
  }

  async function fetchJson(url, step) {
    var text = await fetchText(url, step);
    try { return JSON.parse(text); } catch (e) {
      throw new Failure(step, "账本数据格式不符", "服务器返回的不是 JSON。");
    }
  }

  function withQuery(base, params) {
    var query = Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
    return base + (base.indexOf("?") < 0 ? "?" : "&") + query;
  }

  // The spec's pieces, for tests that feed them vectors in a browser.
  window.xiangzhuLedgerVerify = {
    leafHash: leafHash, nodeHash: nodeHash, rootFromInclusionProof: rootFromInclusionProof,
    parseVerifierKey: parseVerifierKey, parseNote: parseNote, parseCheckpoint: parseCheckpoint,
    parseReceipt: parseReceipt, refCommitment: refCommitment, fromBase64: fromBase64, hex: hex
  };

  // ---- the page ----------------------------------------------------------------------------

  var page = document.getElementById("ledger-verify");
  if (!page) return;

  var stepsList = document.getElementById("verify-steps");
  var result = document.getElementById("verify-result");
  var summary = document.getElementById("verify-receipt");
  var form = document.getElementById("verify-form");
  var retryButton = document.getElementById("verify-retry");
  var current = null;
  var retryTimer = null;
  var retriesLeft = RETRIES;
  var running = false;

  function setStep(step, state, note) {
    var item = stepsList.querySelector('[data-step="' + step + '"]');
    if (!item) return;
    item.dataset.state = state;
    item.querySelector(".step-mark").textContent = { running: "…", ok: "✓", failed: "✗", waiting: "○" }[state];
    item.querySelector(".step-note").textContent = note || "";
  }

  function resetSteps(index) {
    stepsList.hidden = false;
    STEP_ORDER.forEach(function (step) {
      var label = STEP_LABELS[step];
      if (step === "leaf") label = "读取账本第 " + (index + 1) + " 条记录（索引 " + index + "）";
      stepsList.querySelector('[data-step="' + step + '"] .step-label').textContent = label;
      setStep(step, "waiting");
    });
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function line(parent, tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function showSummary(receipt) {
    clear(summary);
    summary.hidden = false;
    var rows = [["账本位置", "第 " + (receipt.index + 1) + " 条（索引 " + receipt.index + "）"],
                ["商户订单号", receipt.sourceRef], ["凭证密钥 salt", receipt.salt]];
    rows.forEach(function (row) {
      line(summary, "dt", "", row[0]);
      line(summary, "dd", "mono", row[1]);
    });
  }

  function showOutcome(outcome, title, detailLines) {
    clear(result);
    result.hidden = false;
    result.dataset.outcome = outcome;
    line(result, "p", "verify-title", title);
    (detailLines || []).forEach(function (text) { line(result, "p", "verify-detail", text); });
    retryButton.hidden = outcome === "ok";
  }

  function campaignOf(legs) {
    for (var i = 0; i < legs.length; i++) {
      var match = /^campaign:(\d+):custody$/.exec(legs[i].account);
      if (match && legs[i].fen > 0) return { id: Number(match[1]), fen: legs[i].fen };
    }
    return null;
  }

  async function campaignTitle(id) {
    try {
      var response = await fetch(page.dataset.campaignUrl + id, { credentials: "omit" });
      if (!response.ok) return null;
      var data = await response.json();
      return typeof data.title === "string" ? data.title : null;
    } catch (e) {
      return null;
    }
  }

  async function check(receipt, platformKey, witnessKeys) {
    setStep("checkpoint", "running");
    var noteText = await fetchText(page.dataset.checkpointUrl, "checkpoint");
    var note = parseNote(noteText);
    var checkpoint = note && parseCheckpoint(note.body);
    if (!checkpoint) throw new Failure("checkpoint", "检查点格式不符", "服务器返回的检查点不是有效的签名检查点。");
    setStep("checkpoint", "ok", "账本共 " + checkpoint.size + " 条");

    setStep("signature", "running");
    if (checkpoint.origin !== platformKey.name || !(await platformSignatureHolds(note, platformKey))) {
      throw new Failure("signature", "签名不符",
        "检查点没有平台公钥 " + platformKey.name + " 的有效签名：它可能被篡改，或不是本平台签发的。");
    }
    var cosigned = await cosignatures(note, platformKey, witnessKeys);
    setStep("signature", "ok", cosigned.seen
      ? "见证人副署 " + cosigned.seen + " 个，已核验 " + cosigned.verified + " 个"
      : "平台签名有效（暂无见证人副署）");

    setStep("leaf", "running");
    if (receipt.index >= checkpoint.size) {
      throw new Failure("leaf", "该条尚未记入公开账本",
        "最新检查点共 " + checkpoint.size + " 条。捐款通常在 1 分钟内记入，稍后将自动重试。", true);
    }
    var leaves = await fetchJson(withQuery(page.dataset.leavesUrl, { start: receipt.index, end: receipt.index + 1 }), "leaf");
    var entry = leaves && Array.isArray(leaves.leaves) && leaves.leaves[0];
    if (!entry || entry.index !== receipt.index || typeof entry.leaf !== "string") {
      throw new Failure("leaf", "账本数据格式不符", "服务器没有返回第 " + (receipt.index + 1) + " 条记录。");
    }
    var leafBytes = encoder.encode(entry.leaf);
    var leaf;
    try { leaf = JSON.parse(entry.leaf); } catch (e) { leaf = null; }
    if (!leaf || leaf.type !== "ledger_transaction" || typeof leaf.ref !== "string" ||
        typeof leaf.kind !== "string" || !Array.isArray(leaf.legs)) {
      throw new Failure("leaf", "凭证与账本记录不符", "账本第 " + (receipt.index + 1) + " 条不是一笔账目记录。");
    }
    setStep("leaf", "ok", leaf.time ? "记账时间 " + chinaTime(leaf.time) : "");

    setStep("root", "running");
    var proof = await fetchJson(withQuery(page.dataset.proofUrl, { index: receipt.index, tree_size: checkpoint.size }), "root");
    var path = proof && Array.isArray(proof.audit_path) ? proof.audit_path.map(fromBase64) : null;
    var computed = null;
    if (path && path.every(function (h) { return h && h.length === 32; })) {
      computed = await rootFromInclusionProof(receipt.index, checkpoint.size, await leafHash(leafBytes), path);
    }
    if (!computed || !equalBytes(computed, checkpoint.rootHash)) {
      throw new Failure("root", "账本根不符",
        "由这条记录和包含证明算出的根，与平台签名的账本根不一致：账本或证明被改动过。");
    }
    setStep("root", "ok", "证明长度 " + path.length + "，根一致");

    setStep("receipt", "running");
    if (await refCommitment(receipt.salt, leaf.kind, receipt.sourceRef) !== leaf.ref) {
      throw new Failure("receipt", "凭证与账本记录不符",
        "用凭证中的订单号和 salt 算出的承诺，与账本第 " + (receipt.index + 1) + " 条的 ref 不同：这份凭证不属于这条记录，或被改动过。");
    }
    setStep("receipt", "ok", "承诺一致");
    return { leaf: leaf, checkpoint: checkpoint, cosigned: cosigned };
  }

  function unexpected(error) {
    var running = stepsList.querySelector('[data-state="running"]');
    var step = running ? running.dataset.step : "checkpoint";
    if (error && error.name === "NotSupportedError") {
      return new Failure(step, "浏览器无法核验", "您的浏览器不支持 Ed25519 签名核验，请升级到最新版后重试。");
    }
    return new Failure(step, "核验出错", String(error && error.message || error));
  }

  async function run() {
    if (!current || running) return;
    running = true;
    clearTimeout(retryTimer);
    resetSteps(current.index);
    showOutcome("running", "正在核验…", ["全部计算都在您的浏览器中完成。"]);
    try {
      if (!window.crypto || !crypto.subtle) {
        throw new Failure("checkpoint", "浏览器无法核验", "请在 https 页面中，用最新版浏览器打开。");
      }
      var platformKey = await parseVerifierKey(page.dataset.key, ALG_ED25519);
      if (!platformKey) throw new Failure("signature", "签名不符", "页面中的平台公钥格式不正确。");
      var witnessKeys = [];
      var listed = (page.dataset.witnesses || "").split(/\s+/).filter(Boolean);
      for (var i = 0; i < listed.length; i++) {
        var w = await parseVerifierKey(listed[i], ALG_COSIGNATURE_V1);
        if (w) witnessKeys.push(w);
      }
      var found = await check(current, platformKey, witnessKeys);
      retriesLeft = RETRIES;
      var lines = [];
      var into = campaignOf(found.leaf.legs);
      if (into) {
        var title = await campaignTitle(into.id);
        lines.push("金额 " + yuan(into.fen) + "，记入" + (title ? "「" + title + "」" : "筹款 #" + into.id) + "的监管账户。");
      } else {
        found.leaf.legs.forEach(function (leg) { lines.push(leg.account + "：" + yuan(leg.fen)); });
      }
      lines.push("由平台签名的账本共 " + found.checkpoint.size + " 条；" +
        (found.cosigned.seen ? "见证人副署 " + found.cosigned.seen + " 个（已核验 " + found.cosigned.verified + " 个）。" : "暂无见证人副署。"));
      showOutcome("ok", "✓ 您的这笔捐款已记入公开账本第 " + (current.index + 1) + " 条", lines);
    } catch (error) {
      if (!(error instanceof Failure)) error = unexpected(error);
      setStep(error.step, "failed", error.title);
      var pending = error.pending;
      showOutcome(pending ? "pending" : "failed", "✗ " + error.title, [error.detail]);
      result.dataset.failedStep = error.step;
      if (pending && retriesLeft > 0) {
        retriesLeft -= 1;
        retryTimer = setTimeout(run, RETRY_SECONDS * 1000);
      }
    } finally {
      running = false;
    }
  }

  function start(text) {
    var receipt = parseReceipt(text);
    if (!receipt) return false;
    current = receipt;
    retriesLeft = RETRIES;
    showSummary(receipt);
    run();
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var field = form.querySelector("[name=receipt]");
    var error = document.getElementById("verify-form-error");
    if (start(field.value)) {
      error.hidden = true;
    } else {
      error.hidden = false;
      field.focus();
    }
  });
  retryButton.addEventListener("click", function () { retriesLeft = RETRIES; run(); });
  window.addEventListener("hashchange", function () { start(location.hash); });

  if (!start(location.hash)) {
    form.querySelector("[name=receipt]").focus();
  }
})();
