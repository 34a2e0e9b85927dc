// Posed, rendered human characters with exact posture labels.
//
// Loaded by render.html inside headless Chromium (driven by render.py / render_walk.py).
// Exposes on `window`:
//   initRenderer(assetUrls)  -> loads the Mixamo-rigged GLB characters
//   renderSample(spec)       -> {png: base64, meta: {...labels}}; spec = {seed, character?, overrides...}
//   renderWalkFrame(spec)    -> {png, meta} for one frame of a walking-in-place clip
//
// Conventions. The labelled person stands at the origin facing +Z, Y up; the person's own
// LEFT is +X. Hand targets are expressed relative to body bones (hips, spine, thighs,
// head) in the rest pose, then carried along when the trunk and legs are posed, so
// "wrist at the hip" stays at the hip whatever the lean. Limbs are set with analytic
// two-bone IK and world-space frames (bone direction + hinge normal), which does not
// depend on each asset's local bone axes.

import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { DRACOLoader } from 'three/addons/loaders/DRACOLoader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import * as SkeletonUtils from 'three/addons/utils/SkeletonUtils.js';

const REST_HEIGHT = 1.75; // every character is normalised to this height (m) before body scale
const X = new THREE.Vector3(1, 0, 0);
const Y = new THREE.Vector3(0, 1, 0);
const Z = new THREE.Vector3(0, 0, 1);
const v3 = (x = 0, y = 0, z = 0) => new THREE.Vector3(x, y, z);
const DEG = Math.PI / 180;

// ---------------------------------------------------------------- random numbers
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
class Rng {
  constructor(seed) { this.r = mulberry32(seed); }
  u(a = 0, b = 1) { return a + (b - a) * this.r(); }
  i(a, b) { return Math.floor(this.u(a, b + 1)); }
  chance(p) { return this.r() < p; }
  pick(arr) { return arr[Math.floor(this.r() * arr.length)]; }
  sign() { return this.r() < 0.5 ? -1 : 1; }
  gauss(s = 1) { const u = 1 - this.r(); const v = this.r(); return s * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); }
  weighted(obj) {
    const items = Object.entries(obj); let t = 0; for (const [, w] of items) t += w;
    let x = this.r() * t; for (const [k, w] of items) { x -= w; if (x <= 0) return k; }
    return items[items.length - 1][0];
  }
}

// ---------------------------------------------------------------- math helpers
function basisQ(u, n) {
  const x = u.clone().normalize();
  const y = n.clone().sub(x.clone().multiplyScalar(n.dot(x))).normalize();
  const z = new THREE.Vector3().crossVectors(x, y);
  return new THREE.Quaternion().setFromRotationMatrix(new THREE.Matrix4().makeBasis(x, y, z));
}
function worldPos(o) { return o.getWorldPosition(new THREE.Vector3()); }
function worldQ(o) { return o.getWorldQuaternion(new THREE.Quaternion()); }
function setWorldQ(bone, q) {
  const pq = worldQ(bone.parent).invert();
  bone.quaternion.copy(pq.multiply(q));
  bone.updateMatrixWorld(true);
}
function rotateWorld(bone, axis, angle) {
  const dq = new THREE.Quaternion().setFromAxisAngle(axis.clone().normalize(), angle);
  setWorldQ(bone, dq.multiply(worldQ(bone)));
}
function dir(a, b) { return b.clone().sub(a).normalize(); }
function perpTo(v, axis) { const a = axis.clone().normalize(); return v.clone().sub(a.multiplyScalar(v.dot(a))); }
function signedAngle(a, b, axis) {
  const c = new THREE.Vector3().crossVectors(a, b);
  return Math.atan2(c.dot(axis), a.dot(b));
}
// Analytic two-bone IK: shoulder S, target T, bone lengths a, b, pole = where the middle joint points.
function twoBone(S, T, a, b, pole) {
  const d = T.clone().sub(S); let L = d.length();
  const dn = d.clone().normalize();
  L = Math.min(Math.max(L, Math.abs(a - b) + 1e-4), (a + b) * 0.9995);
  const cosA = (a * a + L * L - b * b) / (2 * a * L);
  const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
  let p = perpTo(pole, dn);
  if (p.lengthSq() < 1e-8) p = perpTo(Y, dn);
  p.normalize();
  const E = S.clone().add(dn.clone().multiplyScalar(a * cosA)).add(p.multiplyScalar(a * sinA));
  const Tr = S.clone().add(dn.multiplyScalar(L));
  return { E, T: Tr };
}

// ---------------------------------------------------------------- characters
const BONE_KEYS = ['Hips', 'Spine', 'Spine1', 'Spine2', 'Neck', 'Head', 'HeadTop_End',
  'LeftShoulder', 'LeftArm', 'LeftForeArm', 'LeftHand', 'LeftHandMiddle1', 'LeftHandIndex1', 'LeftHandPinky1',
  'RightShoulder', 'RightArm', 'RightForeArm', 'RightHand', 'RightHandMiddle1', 'RightHandIndex1', 'RightHandPinky1',
  'LeftUpLeg', 'LeftLeg', 'LeftFoot', 'LeftToeBase', 'RightUpLeg', 'RightLeg', 'RightFoot', 'RightToeBase'];
const FINGERS = ['Index', 'Middle', 'Ring', 'Pinky'];
const TRUNK_BONES = new Set(['Hips', 'Spine', 'Spine1', 'Spine2']);
const CHEST_BONES = new Set(['Spine1', 'Spine2']);

function boneKey(name) { return name.replace(/^mixamorig\d*[:_]?/, ''); }

const templates = {}; // name -> {container, verts, vgroup, info}

async function loadTemplate(name, url) {
  const draco = new DRACOLoader().setDecoderPath('./node_modules/three/examples/jsm/libs/draco/gltf/');
  const gltf = await new GLTFLoader().setDRACOLoader(draco).setMeshoptDecoder(MeshoptDecoder).loadAsync(url);
  const model = gltf.scene;
  const container = new THREE.Group();
  container.add(model);
  const bones = {};
  model.traverse(o => { if (o.isBone) bones[boneKey(o.name)] = o; });
  for (const k of ['Hips', 'LeftArm', 'LeftFoot', 'LeftToeBase', 'Head']) if (!bones[k]) throw new Error(`${name}: no bone ${k}`);
  container.updateMatrixWorld(true);
  // Face +Z: toes in front of the ankles.
  if (worldPos(bones.LeftToeBase).z < worldPos(bones.LeftFoot).z) model.rotation.y += Math.PI;
  container.updateMatrixWorld(true);
  if (worldPos(bones.LeftArm).x < 0) throw new Error(`${name}: mirrored rig`);
  // Rest-pose vertices (skinned) -> height, floor, and surface probes.
  let pts = [], groups = [];
  model.traverse(o => {
    if (!o.isSkinnedMesh) return;
    const pos = o.geometry.attributes.position; const si = o.geometry.attributes.skinIndex; const sw = o.geometry.attributes.skinWeight;
    const v = new THREE.Vector3();
    const step = pos.count > 40000 ? 2 : 1;
    for (let i = 0; i < pos.count; i += step) {
      o.getVertexPosition(i, v); v.applyMatrix4(o.matrixWorld);
      let best = 0, bw = -1; for (let j = 0; j < 4; j++) { const w = sw.getComponent(i, j); if (w > bw) { bw = w; best = si.getComponent(i, j); } }
      pts.push(v.x, v.y, v.z); groups.push(boneKey(o.skeleton.bones[best].name));
    }
  });
  let ymin = Infinity, ymax = -Infinity;
  for (let i = 1; i < pts.length; i += 3) { ymin = Math.min(ymin, pts[i]); ymax = Math.max(ymax, pts[i]); }
  const k = REST_HEIGHT / (ymax - ymin);
  const hips = worldPos(bones.Hips);
  model.scale.multiplyScalar(k);
  model.position.set(-hips.x * k, -ymin * k, -hips.z * k).add(model.position.clone().multiplyScalar(k));
  container.updateMatrixWorld(true);
  // Recompute the (now normalised) vertices cheaply by the same similarity transform.
  const verts = new Float32Array(pts.length);
  for (let i = 0; i < pts.length; i += 3) {
    verts[i] = (pts[i] - hips.x) * k; verts[i + 1] = (pts[i + 1] - ymin) * k; verts[i + 2] = (pts[i + 2] - hips.z) * k;
  }
  const materials = new Set(); model.traverse(o => { if (o.isMesh) materials.add(o.material); });
  templates[name] = { name, container, verts, vgroup: groups, animations: gltf.animations, nMaterials: materials.size };
}

// Radial surface probe around a vertical axis at (cx, cz), height y, azimuth ang (0 = +Z front, 90 = +X).
function probe(tpl, groupSet, y, cx, cz, angDeg, band = 0.02, halfWidthDeg = 12) {
  const { verts, vgroup } = tpl; let best = 0;
  const a0 = angDeg * DEG;
  for (let i = 0, j = 0; i < verts.length; i += 3, j++) {
    if (Math.abs(verts[i + 1] - y) > band || !groupSet.has(vgroup[j])) continue;
    const dx = verts[i] - cx, dz = verts[i + 2] - cz;
    const a = Math.atan2(dx, dz);
    let da = a - a0; da = Math.atan2(Math.sin(da), Math.cos(da));
    if (Math.abs(da) > halfWidthDeg * DEG) continue;
    const r = Math.hypot(dx, dz); if (r > best) best = r;
  }
  return v3(cx + best * Math.sin(a0), y, cz + best * Math.cos(a0));
}

class Rig {
  constructor(tpl) {
    this.tpl = tpl; this.name = tpl.name;
    this.root = SkeletonUtils.clone(tpl.container);
    this.b = {};
    this.meshes = [];
    this.root.traverse(o => {
      if (o.isBone || /HeadTop_End$/.test(o.name)) this.b[boneKey(o.name)] = o;
      if (o.isMesh) { o.frustumCulled = false; o.material = o.material.clone(); this.meshes.push(o); }
    });
    for (const m of this.meshes) m.userData.baseColor = m.material.color ? m.material.color.clone() : null;
    this.rest = [];
    this.root.traverse(o => { if (o.isBone) this.rest.push([o, o.quaternion.clone(), o.position.clone()]); });
    this.root.updateMatrixWorld(true);
    const B = this.b, P = k => worldPos(B[k]);
    this.restQ = {}; for (const k of Object.keys(B)) this.restQ[k] = worldQ(B[k]);
    this.restP = {}; for (const k of Object.keys(B)) this.restP[k] = P(k);
    this.len = {}; this.u0 = {}; this.n0 = {};
    for (const s of ['Left', 'Right']) {
      this.limbRest(s + 'Arm', s + 'ForeArm', s + 'Hand', Z);
      this.limbRest(s + 'UpLeg', s + 'Leg', s + 'Foot', Z.clone().negate());
      const h = P(s + 'Hand'), mid = P(s + 'HandMiddle1'), idx = P(s + 'HandIndex1'), pk = P(s + 'HandPinky1');
      const hd = dir(h, mid); const across = idx.clone().sub(pk);
      const side = s === 'Left' ? 1 : -1;
      this.u0[s + 'Hand'] = hd;
      this.n0[s + 'Hand'] = new THREE.Vector3().crossVectors(hd, across).multiplyScalar(side).normalize(); // palm normal
      this.len[s + 'HandLen'] = h.distanceTo(mid) * 1.9;
    }
    this.ankleH = this.restP.LeftFoot.y;
    // trunk line (mid-hip -> mid-shoulder) of the rest pose: labels are relative to it
    const rj = { l_shoulder: P('LeftArm'), r_shoulder: P('RightArm'), l_hip: P('LeftUpLeg'), r_hip: P('RightUpLeg') };
    this.restTrunk = trunkAngles(rj);
    this.heelZ = 0.055;
    this.props = new THREE.Group(); this.root.add(this.props);
  }
  limbRest(up, lo, end, flex) {
    const S = this.restP[up], E = this.restP[lo], T = this.restP[end];
    this.len[up] = S.distanceTo(E); this.len[lo] = E.distanceTo(T);
    const u = dir(S, E), f = dir(E, T);
    let n = new THREE.Vector3().crossVectors(u, f);
    if (n.length() < Math.sin(8 * DEG)) n = new THREE.Vector3().crossVectors(u, flex);
    n.normalize();
    this.u0[up] = u; this.n0[up] = n; this.u0[lo] = f; this.n0[lo] = n.clone();
  }
  reset(scale) {
    for (const [o, q, p] of this.rest) { o.quaternion.copy(q); o.position.copy(p); }
    this.root.position.set(0, 0, 0); this.root.rotation.set(0, 0, 0); this.root.scale.setScalar(scale);
    for (const o of [...this.props.children]) { this.props.remove(o); disposeTree(o); }
    this.s = scale; this.ikErr = 0;
    this.root.updateMatrixWorld(true);
  }
  P(k) { return worldPos(this.b[k]); }
  // Anchor: a rest-pose point (container coords, metres at scale 1) tied to a bone.
  anchor(boneName, pRest) {
    const w = this.root.localToWorld(pRest.clone());
    return { bone: this.b[boneName], local: this.b[boneName].worldToLocal(w) };
  }
  at(anchor) { anchor.bone.updateWorldMatrix(true, false); return anchor.bone.localToWorld(anchor.local.clone()); }
  // World-space frame for a bone: its rest (direction u0, secondary n0) goes to (u, n).
  setFrame(key, u, n) {
    const d = basisQ(u, n).multiply(basisQ(this.u0[key], this.n0[key]).invert());
    setWorldQ(this.b[key], d.multiply(this.restQ[key].clone()));
  }
  // Limb through explicit joint positions E (elbow/knee) and T (wrist/ankle); pole = where the middle joint points.
  setLimb(up, lo, E, T, pole) {
    const S = this.P(up);
    const u = dir(S, E), f = dir(E, T);
    let n = new THREE.Vector3().crossVectors(u, f);
    if (n.length() < Math.sin(4 * DEG)) n = new THREE.Vector3().crossVectors(u, pole.clone().negate());
    n.normalize();
    this.setFrame(up, u, n);
    this.setFrame(lo, f, n);
  }
  solveLimb(up, lo, T, pole) {
    const S = this.P(up);
    const r = twoBone(S, T, this.len[up] * this.s, this.len[lo] * this.s, pole);
    this.setLimb(up, lo, r.E, r.T, pole);
    return r;
  }
  // Hand: direction wrist->fingers hd and palm normal pd; the forearm takes part of the twist.
  setHand(side, hd, pd, curl = 0.3) {
    const fk = side + 'ForeArm', hk = side + 'Hand';
    const fore = this.b[fk];
    const uf = dir(this.P(fk), this.P(hk));
    const palmNow = this.n0[hk].clone().applyQuaternion(worldQ(fore).multiply(this.restQ[fk].clone().invert()));
    const a = perpTo(palmNow, uf), b = perpTo(pd, uf);
    if (a.lengthSq() > 1e-6 && b.lengthSq() > 1e-6) rotateWorld(fore, uf, 0.55 * signedAngle(a.normalize(), b.normalize(), uf));
    this.setFrame(hk, hd, pd);
    this.curlFingers(side, curl);
  }
  curlFingers(side, curl) {
    const hk = side + 'Hand';
    const q = worldQ(this.b[hk]).multiply(this.restQ[hk].clone().invert());
    const hd = this.u0[hk].clone().applyQuaternion(q), pd = this.n0[hk].clone().applyQuaternion(q);
    const axis = new THREE.Vector3().crossVectors(hd, pd).normalize();
    for (const f of FINGERS) for (let j = 1; j <= 3; j++) {
      const bone = this.b[`${side}Hand${f}${j}`]; if (!bone) continue;
      rotateWorld(bone, axis, curl * (j === 1 ? 0.7 : 1.0));
    }
  }
  setFoot(side, yawDeg, pitchDeg = 0) {
    const k = side + 'Foot';
    const dq = new THREE.Quaternion().setFromAxisAngle(Y, yawDeg * DEG).multiply(new THREE.Quaternion().setFromAxisAngle(X, pitchDeg * DEG));
    setWorldQ(this.b[k], dq.multiply(this.restQ[k].clone()));
  }
  tint(rng) {
    const hue = rng.u(0, 1), sat = rng.u(0.05, 0.7), light = rng.u(0.15, 0.75);
    const skin = rng.u(0.55, 1.05);
    for (const m of this.meshes) {
      const mat = m.material, base = m.userData.baseColor; if (!base) continue;
      if (mat.map && /skin|body|head/i.test(mat.name)) mat.color.copy(base).multiplyScalar(skin);
      else if (/eye|teeth|glasses|hair/i.test(mat.name)) continue;
      else if (mat.map) mat.color.setHSL(rng.u(0, 1), rng.u(0, 0.35), rng.u(0.45, 1.0));
      else if (/joint|visor/i.test(mat.name)) mat.color.copy(base).multiplyScalar(rng.u(0.5, 1.3));
      else mat.color.setHSL(hue, sat, light);
      if ('roughness' in mat) mat.roughness = rng.u(0.35, 0.95);
      if ('metalness' in mat) mat.metalness = Math.min(mat.metalness, rng.u(0, 0.3));
    }
  }
}

// ---------------------------------------------------------------- scene
const S = {};
function makeScene() {
  S.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  S.renderer.setPixelRatio(1);
  S.renderer.outputColorSpace = THREE.SRGBColorSpace;
  document.body.appendChild(S.renderer.domElement);
  S.scene = new THREE.Scene();
  S.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 100);
  S.lights = new THREE.Group(); S.scene.add(S.lights);
  S.world = new THREE.Group(); S.scene.add(S.world);
  S.pool = {};
}
function getRig(name, slot) {
  const key = `${name}#${slot}`;
  if (!S.pool[key]) S.pool[key] = new Rig(templates[name]);
  return S.pool[key];
}

function canvasTex(w, h, draw) {
  const c = document.createElement('canvas'); c.width = w; c.height = h;
  draw(c.getContext('2d'), w, h);
  const t = new THREE.CanvasTexture(c); t.colorSpace = THREE.SRGBColorSpace; return t;
}
function hsl(rng, l0 = 0.1, l1 = 0.95) { return `hsl(${rng.u(0, 360)},${rng.u(0, 60)}%,${rng.u(l0, l1) * 100}%)`; }

function disposeTree(o) {
  o.traverse(c => { if (c.geometry) c.geometry.dispose(); if (c.material) { if (c.material.map) c.material.map.dispose(); c.material.dispose(); } });
}
function setBackground(rng, force = null) {
  for (const o of [...S.world.children]) { S.world.remove(o); disposeTree(o); }
  if (S.scene.background && S.scene.background.isTexture) S.scene.background.dispose();
  const kind = force ?? rng.weighted({ plain: 0.25, gradient: 0.25, noise: 0.2, floor: 0.3 });
  let floor = kind === 'floor' || rng.chance(0.3);
  if (kind === 'plain') S.scene.background = new THREE.Color(hsl(rng));
  else if (kind === 'gradient' || kind === 'floor') {
    const c0 = hsl(rng), c1 = hsl(rng), vertical = rng.chance(0.7);
    S.scene.background = canvasTex(64, 64, (g, w, h) => {
      const gr = vertical ? g.createLinearGradient(0, 0, 0, h) : g.createLinearGradient(0, 0, w, 0);
      gr.addColorStop(0, c0); gr.addColorStop(1, c1); g.fillStyle = gr; g.fillRect(0, 0, w, h);
    });
  } else {
    const n = rng.i(20, 120), base = hsl(rng), blobs = Array.from({ length: n }, () => [rng.u(), rng.u(), rng.u(0.02, 0.2), hsl(rng)]);
    const px = rng.chance(0.5);
    S.scene.background = canvasTex(256, 256, (g, w, h) => {
      g.fillStyle = base; g.fillRect(0, 0, w, h);
      for (const [x, y, r, c] of blobs) { g.fillStyle = c; g.globalAlpha = 0.5; if (px) g.fillRect(x * w, y * h, r * w, r * h * 0.5); else { g.beginPath(); g.arc(x * w, y * h, r * w, 0, 7); g.fill(); } }
      const img = g.getImageData(0, 0, w, h);
      for (let i = 0; i < img.data.length; i += 4) { const d = (Math.random() - 0.5) * 40; img.data[i] += d; img.data[i + 1] += d; img.data[i + 2] += d; }
      g.putImageData(img, 0, 0);
    });
  }
  if (floor) {
    const checker = rng.chance(0.35), c0 = hsl(rng), c1 = hsl(rng), tiles = rng.i(8, 40);
    const tex = canvasTex(256, 256, (g, w, h) => {
      g.fillStyle = c0; g.fillRect(0, 0, w, h);
      if (checker) { g.fillStyle = c1; const t = w / 8; for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) if ((i + j) % 2) g.fillRect(i * t, j * t, t, t); }
    });
    tex.wrapS = tex.wrapT = THREE.RepeatWrapping; tex.repeat.set(tiles, tiles);
    const m = new THREE.Mesh(new THREE.PlaneGeometry(60, 60), new THREE.MeshStandardMaterial({ map: tex, roughness: rng.u(0.5, 1) }));
    m.rotation.x = -Math.PI / 2; S.world.add(m);
  }
  return floor ? `${kind}+floor`.replace('floor+floor', 'floor') : kind;
}

function setLighting(rng) {
  S.lights.clear();
  const kind = rng.weighted({ studio: 0.35, soft: 0.2, hard_side: 0.15, dim: 0.1, warm: 0.1, cool: 0.1 });
  const col = kind === 'warm' ? 0xffd9b0 : kind === 'cool' ? 0xcfe0ff : 0xffffff;
  const hemiI = { studio: 1.2, soft: 2.2, hard_side: 0.5, dim: 0.5, warm: 1.2, cool: 1.2 }[kind] * rng.u(0.7, 1.3);
  S.lights.add(new THREE.HemisphereLight(col, 0x444444, hemiI));
  const key = new THREE.DirectionalLight(col, ({ soft: 0.8, hard_side: 3.5, dim: 0.8 }[kind] ?? 2.2) * rng.u(0.7, 1.3));
  const az = kind === 'hard_side' ? rng.sign() * rng.u(60, 110) : rng.u(-70, 70);
  const el = rng.u(15, 70);
  key.position.set(Math.sin(az * DEG) * Math.cos(el * DEG), Math.sin(el * DEG), Math.cos(az * DEG) * Math.cos(el * DEG)).multiplyScalar(10);
  S.lights.add(key);
  if (rng.chance(0.5)) {
    const fill = new THREE.DirectionalLight(0xffffff, rng.u(0.2, 1.0));
    fill.position.set(-key.position.x, rng.u(1, 8), rng.u(-10, 10)); S.lights.add(fill);
  }
  return kind;
}

// ---------------------------------------------------------------- posture model
const HAND_COMBOS_STANDING = {
  'hanging/hanging': 14, 'clasped_front/clasped_front': 14, 'behind_back/behind_back': 12, 'crossed/crossed': 13,
  'on_hip/on_hip': 8, 'pocket_front/pocket_front': 6, 'pocket_back/pocket_back': 3,
  'on_hip/hanging': 6, 'pocket_front/hanging': 6, 'pocket_back/hanging': 2, 'raised/hanging': 9, 'phone/hanging': 5,
  'holding2/holding2': 4, 'holding1/hanging': 3, 'on_hip/pocket_front': 2, 'phone/pocket_front': 2, 'on_hip/phone': 1,
};
const HAND_COMBOS_SITTING = {
  'on_lap/on_lap': 22, 'clasped_front/clasped_front': 20, 'crossed/crossed': 20, 'phone/on_lap': 10,
  'holding2/holding2': 10, 'raised/on_lap': 8, 'hanging/hanging': 6, 'behind_back/behind_back': 3,
};
const HAND_COMBOS_WALKING = {
  'swing/swing': 45, 'behind_back/behind_back': 20, 'pocket_front/pocket_front': 12, 'pocket_front/swing': 8,
  'phone/swing': 6, 'holding1/swing': 5, 'on_hip/swing': 2, 'pocket_back/pocket_back': 2,
};
const HAND_CLASS = {
  hanging: 'hanging', swing: 'hanging', clasped_front: 'clasped_front', behind_back: 'behind_back', crossed: 'crossed',
  on_hip: 'on_hip', pocket_front: 'in_pocket', pocket_back: 'in_pocket', raised: 'raised', phone: 'other',
  holding1: 'other', holding2: 'other', on_lap: 'other',
};

function sampleSpec(rng, o) {
  const sp = {};
  sp.activity = o.activity ?? rng.weighted({ standing: 0.56, sitting: 0.27, walking: 0.17 });
  const combos = sp.activity === 'standing' ? HAND_COMBOS_STANDING : sp.activity === 'sitting' ? HAND_COMBOS_SITTING : HAND_COMBOS_WALKING;
  let [h1, h2] = (o.hands ?? rng.weighted(combos)).split('/');
  if (rng.chance(0.5) && !o.hands) [h1, h2] = [h2, h1];
  sp.hands = { Left: h1, Right: h2 };
  sp.topHand = rng.pick(['Left', 'Right']);
  sp.crossStyle = o.crossStyle ?? rng.weighted({ crossed_tucked: 0.6, crossed_on_arm: 0.4 });
  if (sp.activity === 'standing') {
    sp.feet = o.feet ?? rng.weighted({ v: 0.2, together: 0.17, t: 0.14, parallel: 0.22, apart_wide: 0.15, cross: 0.12 });
    sp.weightShift = o.weightShift ?? (['parallel', 'together', 'v', 't'].includes(sp.feet) && rng.chance(0.3));
    sp.trunk = o.trunk ?? rng.weighted({ upright: 0.45, forward: 0.15, back: 0.08, lateral: 0.12, slouch: 0.2 });
  } else if (sp.activity === 'sitting') {
    sp.sitStyle = o.sitStyle ?? rng.weighted({ upright: 0.3, slouched: 0.25, reclined: 0.2, forward: 0.25 });
    sp.sitLegs = o.sitLegs ?? rng.weighted({ normal: 0.2, knee_over_knee: 0.2, ankle_on_knee: 0.2, knees_wide: 0.2, stretched: 0.2 });
    if (sp.sitLegs === 'ankle_on_knee' && sp.sitStyle === 'forward') sp.sitStyle = 'upright';
  } else {
    sp.trunk = o.trunk ?? rng.weighted({ upright: 0.7, forward: 0.15, slouch: 0.15 });
  }
  return sp;
}

// Trunk: pelvis + spine rotations. Returns nothing; labels are measured from joints later.
function poseTrunk(rig, rng, kind, extra = {}) {
  const B = rig.b;
  let lean = rng.gauss(2), lat = rng.gauss(2), thor = rng.u(0, 6), neck = rng.u(-4, 6);
  if (kind === 'forward') lean = rng.u(8, 32);
  else if (kind === 'back') lean = -rng.u(6, 22);
  else if (kind === 'lateral') lat = rng.sign() * rng.u(6, 22);
  else if (kind === 'slouch') { thor = rng.u(22, 45); neck = rng.u(10, 25); lean = rng.u(-4, 6); }
  if (extra.pelvisPitch !== undefined) lean = extra.pelvisPitch;
  if (extra.thor !== undefined) thor = extra.thor;
  // pelvis carries 60 % of a lean, lumbar/thoracic the rest
  rotateWorld(B.Hips, X, 0.6 * lean * DEG);
  rotateWorld(B.Hips, Z, -0.6 * lat * DEG);
  if (extra.pelvisRoll) rotateWorld(B.Hips, Z, extra.pelvisRoll * DEG);
  rotateWorld(B.Spine, X, 0.4 * lean * DEG);
  rotateWorld(B.Spine, Z, -0.4 * lat * DEG);
  if (extra.pelvisRoll) rotateWorld(B.Spine, Z, -0.85 * extra.pelvisRoll * DEG);
  if (extra.yaw) rotateWorld(B.Spine1, Y, extra.yaw * DEG);
  rotateWorld(B.Spine1, X, 0.45 * thor * DEG);
  rotateWorld(B.Spine2, X, 0.55 * thor * DEG);
  rotateWorld(B.Neck, X, neck * DEG);
  // keep the gaze roughly level
  const headFwd = Z.clone().applyQuaternion(worldQ(B.Head).multiply(rig.restQ.Head.clone().invert()));
  const pitch = Math.atan2(-headFwd.y, headFwd.z);
  rotateWorld(B.Head, X, -pitch * rng.u(0.6, 1.0) + rng.gauss(4) * DEG);
  rotateWorld(B.Head, Y, rng.gauss(8) * DEG);
  return { slouch: kind === 'slouch' };
}

// Hand targets in the rest pose, tied to bones. Returns a function placing the arm after the body is posed.
function planArm(rig, rng, side, kind, ctx) {
  const tpl = rig.tpl, s = side === 'Left' ? 1 : -1, R = rig.restP, k = 1 / rig.s;
  const rp = key => R[key].clone().multiplyScalar(k); // rest positions at scale 1 (container coords)
  const hipJ = rp(side + 'UpLeg'), hipsC = rp('Hips'), sh = rp(side + 'Arm');
  const plan = { kind, detail: null };
  const sv = (x, y, z) => v3(s * x, y, z);
  if (kind === 'on_hip') {
    const y = hipJ.y + rng.u(0.07, 0.13);
    const p = probe(tpl, TRUNK_BONES, y, 0, hipsC.z, s * 90, 0.02, 15);
    const fwd = rng.chance(0.75);
    p.add(sv(0.025, 0, fwd ? rng.u(-0.04, 0.0) : rng.u(0.0, 0.04)));
    plan.a = rig.anchor('Hips', p);
    plan.hd = fwd ? sv(-0.25, -0.55, 0.8) : sv(-0.25, -0.55, -0.8);
    plan.pd = sv(-1, 0, 0); plan.pole = sv(1, 0, -0.6); plan.curl = 0.25;
    plan.detail = fwd ? 'fingers_forward' : 'fingers_back';
  } else if (kind === 'clasped_front' || kind === 'behind_back') {
    const front = kind === 'clasped_front';
    const top = ctx.topHand === side;
    const y = (ctx.claspY ??= hipJ.y + (front ? rng.u(-0.03, 0.1) : rng.u(0.03, 0.14)));
    const surf = probe(tpl, TRUNK_BONES, y, 0, hipsC.z, front ? 0 : 180, 0.025, 20);
    const out = front ? 1 : -1;
    const dz = (top ? 0.07 : 0.035) * out;
    const p = surf.clone().add(v3(s * (top ? 0.06 : 0.07), top ? 0.012 : 0, dz));
    if (ctx.sitting && front) { plan.lap = true; plan.top = top; }
    plan.a = rig.anchor('Hips', p);
    plan.hd = sv(-1, -0.35, 0.05 * out); plan.pd = v3(0, 0, -out * (top ? 1 : 1)).add(sv(top ? 0 : 0, 0, 0));
    plan.pole = front ? sv(1, -0.2, -0.8) : sv(1, -0.3, -0.9); plan.curl = top ? 0.55 : 0.35;
    plan.detail = top ? 'clasp_top' : 'clasp_under';
  } else if (kind === 'pocket_front' || kind === 'pocket_back') {
    const front = kind === 'pocket_front';
    const knee = rp(side + 'Leg');
    const y = hipJ.y + (front ? rng.u(-0.03, 0.02) : rng.u(-0.02, 0.04));
    const t = (hipJ.y - y) / (hipJ.y - knee.y);
    const c = hipJ.clone().lerp(knee, t);
    const ang = s * (front ? rng.u(35, 60) : rng.u(130, 155));
    const surf = probe(tpl, new Set([side + 'UpLeg', 'Hips']), y, c.x, c.z, ang, 0.02, 12);
    const radial = v3(Math.sin(ang * DEG), 0, Math.cos(ang * DEG));
    const p = surf.clone().add(radial.clone().multiplyScalar(rng.u(0.0, 0.015)));
    plan.a = rig.anchor(side + 'UpLeg', p);
    plan.hd = radial.clone().multiplyScalar(-0.45).add(v3(0, -1, 0));
    plan.pd = radial.clone().negate(); plan.pole = front ? sv(1, 0, -0.5) : sv(0.8, 0, -1);
    plan.curl = 0.35; plan.detail = front ? 'pocket_front' : 'pocket_back';
  } else if (kind === 'crossed') {
    const over = ctx.topHand === side, tucked = ctx.crossStyle === 'crossed_tucked';
    const y = (ctx.crossY ??= sh.y - rng.u(0.17, 0.24));
    const surf = probe(tpl, CHEST_BONES, y + (over ? -0.015 : 0.015), 0, hipsC.z, 0, 0.03, 25);
    const shO = rp((s > 0 ? 'Right' : 'Left') + 'Arm');
    let p;
    if (tucked) {
      p = v3(shO.x * 0.7, y + (over ? -0.015 : 0.015), surf.z + (over ? 0.02 : -0.005));
      plan.hd = sv(-0.15, -0.15, -1); plan.pd = sv(1, 0, 0); plan.curl = 0.35;
    } else {
      p = v3(shO.x * 1.05, y + rng.u(0.02, 0.07), surf.z + (over ? 0.04 : 0.02));
      plan.hd = sv(-0.25, 0.1, -1); plan.pd = sv(-1, 0, 0); plan.curl = 0.65;
    }
    plan.a = rig.anchor('Spine2', p); plan.pole = sv(0.6, -1, over ? 0.15 : -0.1);
    plan.detail = ctx.crossStyle;
  } else if (kind === 'phone') {
    const head = rp('Head');
    const p = head.clone().add(sv(rng.u(0.075, 0.095), rng.u(-0.09, -0.05), rng.u(0.03, 0.07)));
    plan.a = rig.anchor('Head', p);
    plan.hd = sv(-0.15, 1, -0.2); plan.pd = sv(-1, 0, 0); plan.pole = sv(0.3, -1, 0.2); plan.curl = 0.6;
    plan.prop = 'phone'; plan.detail = 'phone';
  } else if (kind === 'holding1' || kind === 'holding2') {
    const two = kind === 'holding2';
    const y = (ctx.holdY ??= hipJ.y + rng.u(0.1, 0.4));
    const zf = (ctx.holdZ ??= probe(tpl, TRUNK_BONES, Math.min(y, sh.y - 0.2), 0, hipsC.z, 0, 0.03, 25).z + rng.u(0.16, 0.28));
    const w = (ctx.holdW ??= rng.u(0.2, 0.32));
    const p = two ? v3(s * w / 2, y, zf) : v3(s * rng.u(0.12, 0.2), y + rng.u(-0.1, 0.05), zf + rng.u(-0.05, 0.05));
    plan.a = rig.anchor('Spine', p);
    plan.hd = two ? sv(-0.3, 0.1, 1) : v3(0, 0.05, 1); plan.pd = two ? sv(-1, 0, 0) : v3(-s * 0.5, -1, 0);
    plan.pole = sv(1, -1, -0.3); plan.curl = 0.7; plan.prop = two ? (side === 'Left' ? 'board' : null) : 'cup';
    plan.detail = 'holding';
  } else if (kind === 'on_lap') {
    plan.lap = true; plan.detail = 'on_thigh'; plan.curl = 0.3;
  } else if (kind === 'raised') {
    const high = rng.chance(0.6);
    const el = high ? rng.u(140, 175) : rng.u(80, 130), ab = rng.u(-10, 35);
    plan.fk = { flex: el, abd: ab, elbow: high ? rng.u(5, 40) : rng.u(40, 100) };
    plan.hd = null; plan.detail = high ? 'raised_high' : 'raised_shoulder';
  } else { // hanging / swing
    plan.fk = { flex: kind === 'swing' ? ctx.swing?.[side] ?? 0 : rng.u(-8, 14), abd: rng.u(3, 14), elbow: kind === 'swing' ? null : rng.u(3, 28) };
    plan.detail = kind === 'swing' ? 'swing' : null;
  }
  return plan;
}

function placeArm(rig, side, plan, rng) {
  const s = side === 'Left' ? 1 : -1;
  const sv = (x, y, z) => v3(s * x, y, z);
  const up = side + 'Arm', lo = side + 'ForeArm';
  const S0 = rig.P(up);
  const a = rig.len[up] * rig.s, b = rig.len[lo] * rig.s;
  if (plan.fk) {
    const { flex, abd } = plan.fk;
    let elbow = plan.fk.elbow;
    if (elbow === null) elbow = 8 + Math.max(0, flex) * 0.7 + rng.u(0, 6);
    const u = v3(s * Math.sin(abd * DEG), -Math.cos(abd * DEG), 0).applyAxisAngle(X, -flex * DEG).normalize();
    // elbow flexes the forearm forward/up in the plane containing u and the body's front
    let fwd = perpTo(flex > 100 ? Z.clone().negate() : Z, u).normalize();
    if (flex > 60 && flex <= 100) fwd = perpTo(Y, u).normalize();
    const f = u.clone().multiplyScalar(Math.cos(elbow * DEG)).add(fwd.clone().multiplyScalar(Math.sin(elbow * DEG)));
    const E = S0.clone().add(u.clone().multiplyScalar(a));
    const T = E.clone().add(f.clone().multiplyScalar(b));
    rig.setLimb(up, lo, E, T, fwd.clone().negate());
    const hd = f.clone().add(fwd.clone().multiplyScalar(0.15)).normalize();
    let pd;
    if (plan.detail && plan.detail.startsWith('raised')) pd = Z.clone().add(sv(-0.3, 0, 0));
    else pd = sv(-1, 0, -0.35);
    rig.setHand(side, hd, perpTo(pd, hd).normalize(), plan.curl ?? 0.3);
    return;
  }
  let T;
  if (plan.lap) {
    // on the top of the thigh (sitting), or both hands together on the lap
    const hip = rig.P(side + 'UpLeg'), knee = rig.P(side + 'Leg');
    const t = plan.detail === 'on_thigh' ? rng.u(0.45, 0.75) : 0.45;
    const thighUp = new THREE.Vector3().crossVectors(dir(hip, knee), X).normalize().multiplyScalar(-1);
    if (thighUp.y < 0) thighUp.negate();
    T = hip.clone().lerp(knee, t).add(thighUp.multiplyScalar(0.09 * rig.s));
    if (plan.detail === 'on_thigh') {
      T.add(sv(rng.u(-0.02, 0.03), 0, -0.05));
      const td = dir(hip, knee);
      rig.solveLimb(up, lo, T, sv(1, 0, -0.5));
      rig.setHand(side, td.clone().add(sv(-0.2, -0.3, 0)).normalize(), v3(0, -1, 0), plan.curl);
      return;
    }
    // clasped on the lap: both wrists near the midline
    const mid = rig.P('LeftUpLeg').lerp(rig.P('RightUpLeg'), 0.5).lerp(rig.P('LeftLeg').lerp(rig.P('RightLeg'), 0.5), 0.4);
    T = mid.add(v3(s * 0.06, (plan.top ? 0.13 : 0.105) * rig.s, -0.04));
    rig.solveLimb(up, lo, T, sv(1, -0.3, -0.6));
    rig.setHand(side, sv(-1, -0.2, 0.35).normalize(), v3(0, -1, 0), plan.curl);
    return;
  }
  T = rig.at(plan.a);
  // short-armed characters: raise the target along the body until it is within reach
  const reach = 0.985 * (a + b), d0 = T.clone().sub(S0);
  if (d0.length() > reach) {
    const h2 = d0.x * d0.x + d0.z * d0.z;
    if (h2 < reach * reach) T.y = S0.y - Math.sqrt(reach * reach - h2) * Math.sign(S0.y - T.y || 1);
  }
  rig.solveLimb(up, lo, T, plan.pole);
  rig.ikErr = Math.max(rig.ikErr ?? 0, rig.P(side + 'Hand').distanceTo(T));
  const hd = plan.hd.clone().normalize();
  const pd = perpTo(plan.pd, hd); if (pd.lengthSq() < 1e-6) pd.copy(perpTo(Y, hd));
  rig.setHand(side, hd, pd.normalize(), plan.curl ?? 0.3);
}

function addProp(rig, side, kind, rng) {
  if (!kind) return;
  const hand = rig.P(side + 'Hand'), mid = rig.P(side + 'HandMiddle1');
  const q = worldQ(rig.b[side + 'Hand']).multiply(rig.restQ[side + 'Hand'].clone().invert());
  const hd = rig.u0[side + 'Hand'].clone().applyQuaternion(q), pd = rig.n0[side + 'Hand'].clone().applyQuaternion(q);
  const mat = new THREE.MeshStandardMaterial({ color: new THREE.Color(hsl(rng, 0.05, 0.8)), roughness: 0.5 });
  let geo, pos;
  if (kind === 'phone') { geo = new THREE.BoxGeometry(0.072, 0.15, 0.009); pos = hand.clone().lerp(mid, 0.7).add(pd.clone().multiplyScalar(0.025)); }
  else if (kind === 'cup') { geo = new THREE.CylinderGeometry(0.04, 0.035, 0.11, 16); pos = mid.clone().add(pd.clone().multiplyScalar(0.045)); }
  else { // board/folder between both hands
    const other = rig.P((side === 'Left' ? 'Right' : 'Left') + 'HandMiddle1');
    const w = mid.distanceTo(other);
    geo = new THREE.BoxGeometry(Math.max(0.2, w * 0.9), rng.u(0.22, 0.32), 0.02);
    pos = mid.clone().lerp(other, 0.5).add(v3(0, 0.03, 0.0));
    const m = new THREE.Mesh(geo, mat); m.position.copy(pos);
    m.lookAt(pos.clone().add(Z)); m.rotateX(rng.u(-0.6, 0.2));
    rig.props.attach(m); return;
  }
  const m = new THREE.Mesh(geo, mat);
  m.position.copy(pos);
  m.quaternion.copy(basisQ(Y, Z).invert()); // box Y along the hand direction
  const qq = basisQ(hd, pd).multiply(basisQ(Y, Z).invert());
  m.quaternion.copy(qq);
  rig.props.attach(m);
}

// Standing legs: ankle targets on the floor + foot yaw. Returns labels.
function poseLegsStanding(rig, rng, feet, weightShift, ctx) {
  const s_ = rig.s, hipHalf = Math.abs(rig.restP.LeftUpLeg.x) / rig.s, shHalf = Math.abs(rig.restP.LeftArm.x) / rig.s;
  const tg = { Left: { x: 0, z: 0, yaw: 0, lift: 0, pitch: 0 }, Right: { x: 0, z: 0, yaw: 0, lift: 0, pitch: 0 } };
  let crossKind = null;
  if (feet === 'v') {
    const V = rng.u(30, 60), hx = rng.u(0.035, 0.055);
    tg.Left = { x: hx, z: 0, yaw: V / 2 + rng.gauss(2), lift: 0 }; tg.Right = { x: -hx, z: 0, yaw: -(V / 2 + rng.gauss(2)), lift: 0 };
  } else if (feet === 'together') {
    const hx = rng.u(0.045, 0.06);
    tg.Left = { x: hx, z: rng.gauss(0.01), yaw: rng.u(-2, 7) }; tg.Right = { x: -hx, z: rng.gauss(0.01), yaw: -rng.u(-2, 7) };
  } else if (feet === 't') {
    const back = rng.pick(['Left', 'Right']), front = back === 'Left' ? 'Right' : 'Left';
    const sb = back === 'Left' ? 1 : -1, psi = rng.u(60, 90);
    const bx = sb * rng.u(0.03, 0.06);
    tg[back] = { x: bx, z: -0.03, yaw: sb * psi };
    const bdir = v3(Math.sin(sb * psi * DEG), 0, Math.cos(sb * psi * DEG));
    const heel = v3(bx, 0, -0.03 + rig.heelZ).add(bdir.multiplyScalar(0.06)).add(v3(0, 0, 0.045));
    tg[front] = { x: heel.x, z: heel.z + rig.heelZ, yaw: -sb * rng.u(0, 15) };
  } else if (feet === 'parallel') {
    const hx = hipHalf * rng.u(0.85, 1.35);
    tg.Left = { x: hx, z: rng.gauss(0.02), yaw: rng.u(-3, 12) }; tg.Right = { x: -hx, z: rng.gauss(0.02), yaw: -rng.u(-3, 12) };
  } else if (feet === 'apart_wide') {
    const hx = shHalf * rng.u(1.15, 1.7);
    tg.Left = { x: hx, z: rng.gauss(0.03), yaw: rng.u(3, 25) }; tg.Right = { x: -hx, z: rng.gauss(0.03), yaw: -rng.u(3, 25) };
  } else { // standing leg cross: one foot crossed in front of the other
    const c = rng.pick(['Left', 'Right']), o = c === 'Left' ? 'Right' : 'Left', sc = c === 'Left' ? 1 : -1;
    tg[o] = { x: -sc * rng.u(0.03, 0.07), z: -0.02, yaw: -sc * rng.u(0, 15) };
    tg[c] = { x: -sc * rng.u(0.13, 0.2), z: rng.u(0.04, 0.12), yaw: sc * rng.u(-5, 20), lift: rng.u(0, 0.04), pitch: 0 };
    crossKind = 'standing_cross'; ctx.crossLeg = c;
  }
  for (const k of ['Left', 'Right']) { tg[k].x *= s_ / 1.0; tg[k].z *= s_; }
  let free = null;
  if (weightShift) {
    const sup = rng.pick(['Left', 'Right']); free = sup === 'Left' ? 'Right' : 'Left';
    const ss = sup === 'Left' ? 1 : -1;
    rig.root.position.x += ss * rng.u(0.03, 0.07) * s_;
    tg[free].z += rng.u(0.02, 0.1) * s_; tg[free].lift = rng.u(0.0, 0.04); tg[free].yaw += (free === 'Left' ? 1 : -1) * rng.u(0, 12);
    ctx.pelvisRoll = ss * rng.u(3, 8);
  }
  return { tg, free, crossKind };
}

function applyLegs(rig, tg, free, extraDrop = 0) {
  rig.root.updateMatrixWorld(true);
  const L = k => (rig.len[k + 'UpLeg'] + rig.len[k + 'Leg']) * rig.s;
  const ankleY = rig.ankleH * rig.s;
  let drop = 0;
  for (const k of ['Left', 'Right']) {
    const Sj = rig.P(k + 'UpLeg');
    const t = tg[k];
    const T = v3(t.x, ankleY + (t.lift || 0) * rig.s, t.z);
    const dh = Math.hypot(T.x - Sj.x, T.z - Sj.z);
    const maxV = Math.sqrt(Math.max(0, (0.997 * L(k)) ** 2 - dh * dh));
    if (k !== free) drop = Math.max(drop, Sj.y - (T.y + maxV));
  }
  rig.root.position.y -= drop + extraDrop;
  rig.root.updateMatrixWorld(true);
  for (const k of ['Left', 'Right']) {
    const t = tg[k];
    const T = v3(t.x, ankleY + (t.lift || 0) * rig.s, t.z);
    const pole = v3(Math.sin(t.yaw * DEG) * 0.8, 0, Math.cos(t.yaw * DEG)).add(v3(0, 0.05, 0));
    rig.solveLimb(k + 'UpLeg', k + 'Leg', T, pole);
    rig.setFoot(k, t.yaw, t.pitch ?? (t.lift ? t.lift * 500 : 0));
  }
}

// Sitting: chair (box) under the pelvis, legs by FK/IK. Returns labels.
function poseSitting(rig, rng, sp, ctx) {
  const s = rig.s, B = rig.b;
  const a = rig.len.LeftUpLeg * s, b = rig.len.LeftLeg * s, ankleY = rig.ankleH * s;
  const seatUnder = 0.085 * s; // hip joint above the seat surface
  const shankAng = rng.u(-5, 15);
  let hipY = ankleY + b * Math.cos(shankAng * DEG) + rng.u(-0.03, 0.01);
  if (sp.sitLegs === 'stretched') hipY = ankleY + b * 0.95 + rng.u(-0.02, 0.02);
  const restHipY = rig.P('LeftUpLeg').y;
  rig.root.position.y += hipY - restHipY;
  rig.root.updateMatrixWorld(true);
  const style = sp.sitStyle;
  let pelvisPitch = 0, thor = rng.u(0, 6), kind = 'upright';
  if (style === 'upright') pelvisPitch = rng.gauss(3);
  else if (style === 'slouched') { pelvisPitch = -rng.u(10, 22); thor = rng.u(25, 45); kind = 'slouch'; }
  else if (style === 'reclined') pelvisPitch = -rng.u(15, 32);
  else pelvisPitch = rng.u(14, 36);
  const tr = poseTrunk(rig, rng, kind, { pelvisPitch, thor });
  rig.root.updateMatrixWorld(true);
  const hipL = rig.P('LeftUpLeg'), hipR = rig.P('RightUpLeg');
  // chair
  const seatTop = hipY - seatUnder, backZ = Math.min(hipL.z, hipR.z) - 0.14 * s;
  const depth = a * rng.u(0.75, 0.9) + 0.14 * s, width = rng.u(0.42, 0.52) * s;
  const chairMat = new THREE.MeshStandardMaterial({ color: new THREE.Color(hsl(rng, 0.1, 0.8)), roughness: rng.u(0.3, 0.9) });
  const seat = new THREE.Mesh(new THREE.BoxGeometry(width, seatTop, depth), chairMat);
  seat.position.set(0, seatTop / 2, backZ + depth / 2); ctx.chair.add(seat);
  const wantBack = style === 'reclined' || (style !== 'forward' && rng.chance(0.5));
  if (wantBack) {
    const h = rng.u(0.45, 0.7) * s, tilt = style === 'reclined' ? -Math.min(-pelvisPitch, 40) * DEG * 0.9 : -rng.u(0, 10) * DEG;
    const back = new THREE.Mesh(new THREE.BoxGeometry(width, h, 0.05), chairMat);
    const backOff = style === 'reclined' ? 0.02 : (style === 'slouched' ? 0.14 : 0.05);
    back.position.set(0, seatTop + h / 2 * Math.cos(tilt), backZ - backOff * s + (h / 2) * Math.sin(tilt));
    back.rotation.x = tilt; ctx.chair.add(back);
  }
  // legs
  const legs = sp.sitLegs;
  const res = { crossKind: null, kneesWide: false, stretched: false };
  const legFK = (k, thighDir, shankDir, yaw) => {
    const Sj = rig.P(k + 'UpLeg');
    const E = Sj.clone().add(thighDir.clone().normalize().multiplyScalar(a));
    const T = E.clone().add(shankDir.clone().normalize().multiplyScalar(b));
    rig.setLimb(k + 'UpLeg', k + 'Leg', E, T, v3(0, 0.4, 1));
    return { E, T };
  };
  const normalLeg = (k, abd, shank, toe) => {
    const sk = k === 'Left' ? 1 : -1;
    const thigh = v3(sk * Math.sin(abd * DEG), -rng.u(0, 0.08), 1);
    const sh = v3(sk * rng.u(-0.05, 0.1), -1, Math.tan(shank * DEG));
    const r = legFK(k, thigh, sh);
    rig.setFoot(k, sk * toe, 0);
    return r;
  };
  if (legs === 'normal' || legs === 'knees_wide') {
    const wide = legs === 'knees_wide';
    for (const k of ['Left', 'Right']) normalLeg(k, wide ? rng.u(22, 38) : rng.u(0, 9), shankAng + rng.gauss(4), wide ? rng.u(10, 30) : rng.u(0, 12));
    res.kneesWide = wide;
  } else if (legs === 'stretched') {
    for (const k of ['Left', 'Right']) {
      const sk = k === 'Left' ? 1 : -1;
      const Sj = rig.P(k + 'UpLeg'); const g = rng.u(50, 72);
      const sinT = Math.min(0.9, Math.max(0, (Sj.y - ankleY - b * Math.cos(g * DEG)) / a));
      const th = Math.asin(sinT);
      const thigh = v3(sk * rng.u(0, 0.12), -Math.tan(th), 1);
      legFK(k, thigh, v3(sk * rng.u(-0.05, 0.08), -Math.cos(g * DEG), Math.sin(g * DEG)));
      rig.setFoot(k, sk * rng.u(5, 25), rng.u(-20, 5));
    }
    res.stretched = true;
  } else {
    const top = rng.pick(['Left', 'Right']), bot = top === 'Left' ? 'Right' : 'Left';
    const st = top === 'Left' ? 1 : -1, sb = -st;
    const rb = normalLeg(bot, rng.u(0, 8), shankAng + rng.u(-3, 6), rng.u(0, 12));
    if (legs === 'knee_over_knee') {
      const Sj = rig.P(top + 'UpLeg');
      const kneeGoal = rb.E.clone().add(v3(sb * rng.u(0.0, 0.03) * s, 0.1 * s, 0.05 * s));
      const thigh = dir(Sj, kneeGoal);
      const Et = Sj.clone().add(thigh.multiplyScalar(a));
      const sh = v3(sb * rng.u(0.25, 0.45), -1, rng.u(-0.15, 0.2)).normalize();
      rig.setLimb(top + 'UpLeg', top + 'Leg', Et, Et.clone().add(sh.multiplyScalar(b)), v3(0, 0.3, 1));
      rig.setFoot(top, sb * rng.u(0, 20), rng.u(20, 45));
      res.crossKind = 'knee_over_knee';
    } else {
      const T = rb.E.clone().add(v3(sb * rng.u(-0.02, 0.02) * s, 0.1 * s, -0.04 * s));
      rig.solveLimb(top + 'UpLeg', top + 'Leg', T, v3(st * 1, 0.35, 0.25));
      rig.setFoot(top, sb * rng.u(70, 95), rng.u(-5, 20));
      res.crossKind = 'ankle_on_knee';
    }
  }
  return { ...res, slouch: tr.slouch };
}

// Walking mid-stride (procedural, in place): phase in [0,1), left heel strike at 0.
function walkTargets(rig, phase, p) {
  const tg = {};
  for (const k of ['Left', 'Right']) {
    const sk = k === 'Left' ? 1 : -1;
    const ph = (phase + (k === 'Left' ? 0 : 0.5)) % 1;
    let z, lift, pitch;
    const st = 0.62;
    if (ph < st) { const u = ph / st; z = p.stride / 2 * (1 - 2 * u); lift = 0; pitch = u < 0.15 ? -15 * (1 - u / 0.15) : (u > 0.75 ? 25 * (u - 0.75) / 0.25 : 0); lift = u > 0.75 ? 0.05 * (u - 0.75) / 0.25 : 0; }
    else { const u = (ph - st) / (1 - st); z = -p.stride / 2 + p.stride * (0.5 - 0.5 * Math.cos(Math.PI * u)); lift = p.lift * Math.sin(Math.PI * u) + 0.05 * (1 - u) * (u < 0.3 ? 1 : 0); pitch = 20 * (1 - u) - 10 * u; }
    tg[k] = { x: sk * p.width, z: z * rig.s, yaw: sk * p.toe, lift, pitch };
  }
  return tg;
}

// ---------------------------------------------------------------- labels
function measure(rig) {
  const P = k => rig.P(k);
  const names = {
    head: 'Head', neck: 'Neck', pelvis: 'Hips', head_top: 'HeadTop_End',
    l_shoulder: 'LeftArm', l_elbow: 'LeftForeArm', l_wrist: 'LeftHand', l_hand: 'LeftHandMiddle1', l_hip: 'LeftUpLeg', l_knee: 'LeftLeg', l_ankle: 'LeftFoot', l_toe: 'LeftToeBase',
    r_shoulder: 'RightArm', r_elbow: 'RightForeArm', r_wrist: 'RightHand', r_hand: 'RightHandMiddle1', r_hip: 'RightUpLeg', r_knee: 'RightLeg', r_ankle: 'RightFoot', r_toe: 'RightToeBase',
  };
  const j = {}; for (const [n, k] of Object.entries(names)) if (rig.b[k]) j[n] = P(k);
  if (!j.head_top) j.head_top = j.head.clone().add(j.head.clone().sub(j.neck).multiplyScalar(1.6));
  return j;
}
function trunkAngles(j) {
  const ms = j.l_shoulder.clone().lerp(j.r_shoulder, 0.5), mh = j.l_hip.clone().lerp(j.r_hip, 0.5);
  const t = ms.sub(mh);
  return { lean: Math.atan2(t.z, t.y) / DEG, lateral: Math.atan2(t.x, t.y) / DEG };
}
function armSwing(j, side) {
  const p = side === 'Left' ? 'l_' : 'r_';
  const ms = j.l_shoulder.clone().lerp(j.r_shoulder, 0.5), mh = j.l_hip.clone().lerp(j.r_hip, 0.5);
  const down = mh.sub(ms).normalize();
  const arm = j[p + 'elbow'].clone().sub(j[p + 'shoulder']).normalize();
  // sagittal plane: normal = body left axis (X, de-rotated by trunk)
  const left = X.clone();
  const d2 = perpTo(down, left).normalize(), a2 = perpTo(arm, left).normalize();
  const sag = signedAngle(d2, a2, left.clone().negate()); // + forward (towards +Z)
  const d3 = Math.acos(Math.min(1, Math.max(-1, down.dot(arm))));
  return { sag: sag / DEG, d3: d3 / DEG };
}

// ---------------------------------------------------------------- camera
function frameCamera(rig, rng, o, w, h, j) {
  const cam = S.camera;
  const fov = o.fov ?? rng.u(22, 70);
  cam.fov = fov; cam.aspect = w / h; cam.near = 0.05; cam.far = 100; cam.updateProjectionMatrix();
  let az;
  if (o.azimuth !== undefined) az = o.azimuth;
  else az = rng.chance(0.75) ? rng.u(-70, 70) : rng.u(-180, 180);
  const el = o.elevation ?? rng.u(-10, 35);
  const visible = o.visible ?? rng.weighted({ full_body: 0.78, knees_up: 0.14, waist_up: 0.08 });
  const top = Math.max(j.head_top.y, j.l_wrist.y, j.r_wrist.y) + 0.04 * rig.s;
  const floorY = 0;
  let bottom = visible === 'full_body' ? floorY : visible === 'knees_up' ? Math.min(j.l_knee.y, j.r_knee.y) - 0.02 : Math.min(j.l_hip.y, j.r_hip.y) - 0.02;
  if (visible !== 'full_body') bottom = Math.min(bottom, top - 0.3);
  const frac = o.frac ?? (visible === 'full_body' ? rng.u(0.4, 0.95) : rng.u(0.6, 0.95));
  const center = v3(rig.root.position.x, (top + bottom) / 2, rig.root.position.z * 0.5);
  const extent = top - bottom;
  const dirv = v3(Math.sin(az * DEG) * Math.cos(el * DEG), Math.sin(el * DEG), Math.cos(az * DEG) * Math.cos(el * DEG));
  let dist = (extent / frac) / (2 * Math.tan(fov * DEG / 2)) + 0.3;
  const pts = Object.values(j);
  pts.push(v3(j.l_toe.x, 0, j.l_toe.z), v3(j.r_toe.x, 0, j.r_toe.z));
  const shiftX = o.shiftX ?? rng.gauss(0.12), shiftY = rng.gauss(0.05);
  for (let it = 0; it < 4; it++) {
    cam.position.copy(center).add(dirv.clone().multiplyScalar(dist));
    cam.lookAt(center); cam.updateMatrixWorld(true);
    let ymin = Infinity, ymax = -Infinity;
    for (const p of [v3(center.x, top, center.z), v3(center.x, bottom, center.z)]) { const q = p.clone().project(cam); ymin = Math.min(ymin, q.y); ymax = Math.max(ymax, q.y); }
    const cur = (ymax - ymin) / 2;
    dist *= cur / frac; dist = Math.max(dist, 0.6);
  }
  // off-centre framing: rotate the camera a little (keeps the person mostly in view)
  const halfH = Math.tan(fov * DEG / 2), halfW = halfH * w / h;
  cam.position.copy(center).add(dirv.clone().multiplyScalar(dist)); cam.lookAt(center);
  const room = Math.max(0, 1 - frac);
  cam.rotateY(-shiftX * room * Math.atan(halfW)); cam.rotateX(shiftY * room * Math.atan(halfH));
  cam.updateMatrixWorld(true);
  // measured visibility
  const inImg = p => { const q = p.clone().project(cam); return Math.abs(q.x) <= 1 && Math.abs(q.y) <= 1 && q.z < 1; };
  const vis = (inImg(j.l_ankle) || inImg(j.r_ankle)) ? 'full_body' : (inImg(j.l_knee) || inImg(j.r_knee)) ? 'knees_up' : 'waist_up';
  let ymin = Infinity, ymax = -Infinity;
  for (const p of pts) { const q = p.clone().project(cam); ymin = Math.min(ymin, q.y); ymax = Math.max(ymax, q.y); }
  return { az, el, fov, dist: cam.position.distanceTo(center), visible: vis, heightFrac: (Math.min(ymax, 1) - Math.max(ymin, -1)) / 2, dirv, center };
}

// ---------------------------------------------------------------- posing a whole person
function posePerson(rig, rng, sp, ctx, walkPhase = null, walkParams = null) {
  const B = rig.b;
  const lab = { feet: null, legs_crossed: false, legs_crossed_kind: null, weight_on_one_leg: false, sitting_style: null, knees_wide: null, legs_stretched: null, slouch: false };
  ctx.topHand = sp.topHand; ctx.crossStyle = sp.crossStyle; ctx.sitting = sp.activity === 'sitting';
  // arm plans first (anchors are taken in the rest pose)
  if (sp.activity === 'walking') {
    const wp = walkParams ?? { stride: rng.u(0.4, 0.65), lift: rng.u(0.06, 0.12), width: rng.u(0.07, 0.11), toe: rng.u(0, 10), armAmp: rng.u(10, 30), armOff: rng.u(3, 10) };
    const ph = walkPhase ?? rng.u(0, 1);
    ctx.swing = {};
    for (const k of ['Left', 'Right']) {
      const phk = (ph + (k === 'Left' ? 0 : 0.5)) % 1; // same-side leg forward at phk=0 -> arm back
      ctx.swing[k] = wp.armOff - wp.armAmp * Math.cos(2 * Math.PI * phk);
    }
    ctx.walk = { ph, wp };
  }
  const plans = {};
  for (const k of ['Left', 'Right']) plans[k] = planArm(rig, rng, k, sp.hands[k], ctx);
  if (sp.activity === 'standing') {
    const legs = poseLegsStanding(rig, rng, sp.feet, sp.weightShift, ctx);
    const tr = poseTrunk(rig, rng, sp.trunk, { pelvisRoll: ctx.pelvisRoll });
    applyLegs(rig, legs.tg, legs.free, rng.chance(0.3) ? rng.u(0, 0.008) : 0);
    lab.feet = sp.feet === 'cross' ? null : sp.feet;
    lab.legs_crossed = sp.feet === 'cross'; lab.legs_crossed_kind = legs.crossKind;
    lab.weight_on_one_leg = !!legs.free; lab.slouch = tr.slouch;
  } else if (sp.activity === 'sitting') {
    const r = poseSitting(rig, rng, sp, ctx);
    lab.sitting_style = sp.sitStyle; lab.knees_wide = r.kneesWide; lab.legs_stretched = r.stretched;
    lab.legs_crossed = !!r.crossKind; lab.legs_crossed_kind = r.crossKind; lab.slouch = sp.sitStyle === 'slouched';
  } else {
    const { ph, wp } = ctx.walk;
    const tg = walkTargets(rig, ph, wp);
    const tr = poseTrunk(rig, rng, sp.trunk, { yaw: 6 * Math.sin(2 * Math.PI * ph) });
    rotateWorld(B.Hips, Y, -5 * Math.sin(2 * Math.PI * ph) * DEG);
    // the pelvis height follows the leg that struck the ground most recently; the trailing leg may lift its heel
    const phL = ph, phR = (ph + 0.5) % 1;
    const freeLeg = phL < 0.62 && (phL <= phR || phR >= 0.62) ? 'Right' : 'Left';
    applyLegs(rig, tg, freeLeg, 0.003 * rig.s);
    lab.slouch = tr.slouch;
  }
  rig.root.updateMatrixWorld(true);
  for (const k of ['Left', 'Right']) placeArm(rig, k, plans[k], rng);
  rig.root.updateMatrixWorld(true);
  for (const k of ['Left', 'Right']) if (plans[k].prop) addProp(rig, k, plans[k].prop, rng);
  return { lab, plans };
}

function handLabels(sp, plans) {
  const c = { Left: HAND_CLASS[sp.hands.Left], Right: HAND_CLASS[sp.hands.Right] };
  const any = cls => c.Left === cls || c.Right === cls;
  return {
    hand_left: c.Left, hand_right: c.Right,
    hand_left_detail: plans.Left.detail, hand_right_detail: plans.Right.detail,
    arms_crossed: any('crossed'), hands_on_hips: any('on_hip'), hands_in_pockets: any('in_pocket'),
    hands_behind_back: any('behind_back'), hands_clasped_front: any('clasped_front'),
    arms_hanging: c.Left === 'hanging' && c.Right === 'hanging',
  };
}

const r4 = x => Math.round(x * 1e4) / 1e4;
const r1 = x => Math.round(x * 10) / 10;

// ---------------------------------------------------------------- public API
window.initRenderer = async (assets) => {
  makeScene();
  for (const [name, url] of Object.entries(assets)) await loadTemplate(name, url);
  return Object.keys(templates);
};

window.renderSample = (o) => {
  const seed = o.seed >>> 0;
  const rng = new Rng(seed);
  const names = Object.keys(templates);
  const character = o.character ?? rng.pick(names);
  const sp = sampleSpec(rng, o);
  // image size
  const long = o.long ?? Math.round(rng.u(256, 1280));
  const aspect = o.aspect ?? rng.weighted({ '0.75': 0.3, '0.5625': 0.15, '0.6667': 0.1, '1': 0.1, '1.3333': 0.2, '1.7778': 0.15 });
  const ar = Number(aspect);
  const w = ar <= 1 ? Math.round(long * ar) : long, h = ar <= 1 ? long : Math.round(long / ar);
  // scene
  for (const o2 of [...S.scene.children]) if (o2.userData.person || o2.userData.chair) { S.scene.remove(o2); if (o2.userData.chair) disposeTree(o2); }
  const background = setBackground(rng);
  const lighting = setLighting(rng);
  const chair = new THREE.Group(); chair.userData.chair = true; S.scene.add(chair);
  const rig = getRig(character, 0);
  const scale = o.height ? o.height / REST_HEIGHT : rng.u(1.55, 1.95) / REST_HEIGHT;
  rig.reset(scale); rig.tint(rng); rig.root.userData.person = true; S.scene.add(rig.root);
  const ctx = { chair };
  const { lab, plans } = posePerson(rig, rng, sp, ctx);
  const jw = measure(rig);
  const ta = trunkAngles(jw);
  ta.lean -= rig.restTrunk.lean; ta.lateral -= rig.restTrunk.lateral;
  const W = Math.max(8, Math.round(w)), H = Math.max(8, Math.round(h));
  const cam = frameCamera(rig, rng, o, W, H, jw);
  // extra people, further back than the labelled person
  const nExtra = o.extras ?? rng.weighted({ 0: 0.62, 1: 0.2, 2: 0.12, 3: 0.06 });
  const used = {};
  let placed = 0;
  for (let e = 0; e < Number(nExtra); e++) {
    const nm = rng.pick(names); used[nm] = (used[nm] ?? 0) + 1;
    const er = getRig(nm, used[nm]);  // slot 0 is the labelled person
    er.reset(rng.u(1.55, 1.95) / REST_HEIGHT); er.tint(rng);
    const esp = sampleSpec(rng, { activity: rng.chance(0.85) ? 'standing' : 'walking' });
    esp.trunk = 'upright';
    posePerson(er, rng, esp, { chair });
    const back = rng.u(1.2, 5) * (0.5 + cam.dist / 6);
    const right = v3(cam.dirv.z, 0, -cam.dirv.x).normalize();
    const lateral = rng.sign() * rng.u(0.7, 2.2) * (0.6 + cam.dist * Math.tan(cam.fov * DEG / 2) * 0.5);
    const pos = v3(-cam.dirv.x, 0, -cam.dirv.z).normalize().multiplyScalar(back).add(right.multiplyScalar(lateral));
    er.root.position.x += pos.x; er.root.position.z += pos.z;
    er.root.rotation.y = rng.u(-Math.PI, Math.PI);
    er.root.userData.person = true; S.scene.add(er.root);
    // counted when at least half of its joints project inside the image (and in front of the camera)
    er.root.updateMatrixWorld(true);
    const ej = Object.values(measure(er));
    const inside = ej.filter(p => { const q = p.clone().project(S.camera); return Math.abs(q.x) <= 1 && Math.abs(q.y) <= 1 && q.z < 1; }).length;
    if (inside >= ej.length / 2) placed++;
  }
  let png = null;
  if (!o.dry) {
    S.renderer.setSize(W, H, false);
    S.renderer.render(S.scene, S.camera);
    png = S.renderer.domElement.toDataURL('image/png').split(',')[1];
  }
  let yaw = -cam.az; yaw = Math.atan2(Math.sin(yaw * DEG), Math.cos(yaw * DEG)) / DEG;
  const ay = Math.abs(yaw);
  const view = ay <= 30 ? 'front' : ay >= 150 ? 'back' : (ay >= 60 && ay <= 120) ? 'side' : 'oblique';
  const leaning = Math.abs(ta.lean) >= 10 || Math.abs(ta.lateral) >= 8 || lab.slouch || lab.weight_on_one_leg || lab.sitting_style === 'reclined';
  const joints = {}; for (const [k, p] of Object.entries(jw)) joints[k] = [r4(p.x), r4(p.y), r4(p.z)];
  const meta = {
    id: o.id ?? `s${seed}`, character, activity: sp.activity, ...handLabels(sp, plans),
    feet: lab.feet, legs_crossed: lab.legs_crossed, legs_crossed_kind: lab.legs_crossed_kind,
    trunk_lean_deg: r1(ta.lean), trunk_lateral_deg: r1(ta.lateral), slouch: lab.slouch, weight_on_one_leg: lab.weight_on_one_leg,
    sitting_style: lab.sitting_style, knees_wide: lab.knees_wide, legs_stretched: lab.legs_stretched, leaning_or_slouching: leaning,
    body_yaw_deg: r1(yaw), view, camera_elevation_deg: r1(cam.el), camera_distance_m: Math.round(cam.dist * 100) / 100, fov_deg: r1(cam.fov),
    ik_err_m: Math.round((rig.ikErr ?? 0) * 1000) / 1000, rest_trunk_lean_deg: r1(rig.restTrunk.lean),
    image_w: W, image_h: H, n_people: 1 + placed, visible: cam.visible, lighting, background, seed, joints,
  };
  return { png, meta };
};

// One frame of a walking-in-place clip with exact arm-swing truth.
window.renderWalkFrame = (o) => {
  const rng = new Rng(o.seed >>> 0);  // same seed every frame -> same character look / scene
  const names = Object.keys(templates);
  const character = o.character ?? names[0];
  for (const o2 of [...S.scene.children]) if (o2.userData.person || o2.userData.chair) S.scene.remove(o2);
  setBackground(rng, 'floor'); setLighting(rng);
  const rig = getRig(character, 0);
  rig.reset((o.height ?? 1.75) / REST_HEIGHT); rig.tint(rng); rig.root.userData.person = true; S.scene.add(rig.root);
  const sp = { activity: 'walking', hands: { Left: 'swing', Right: 'swing' }, trunk: 'none', topHand: 'Left', crossStyle: 'crossed_tucked' };
  const frng = new Rng(1234);  // fixed small noise
  const wp = { stride: o.stride ?? 0.55, lift: 0.09, width: 0.09, toe: 6, armAmp: o.armAmp ?? 24.5, armOff: o.armOff ?? 8.5 };
  posePerson(rig, frng, sp, { chair: new THREE.Group() }, o.phase, wp);
  const jw = measure(rig);
  const cam = frameCamera(rig, rng, { azimuth: o.azimuth, elevation: o.elevation ?? 5, fov: o.fov ?? 35, visible: 'full_body', frac: 0.82, shiftX: 0 }, o.w, o.h, jw);
  S.renderer.setSize(o.w, o.h, false);
  S.renderer.render(S.scene, S.camera);
  const png = S.renderer.domElement.toDataURL(o.jpeg ? 'image/jpeg' : 'image/png', 0.95).split(',')[1];
  const L = armSwing(jw, 'Left'), R = armSwing(jw, 'Right');
  const joints = {}; for (const [k, p] of Object.entries(jw)) joints[k] = [r4(p.x), r4(p.y), r4(p.z)];
  return { png, meta: { joints, left_sagittal_deg: L.sag, right_sagittal_deg: R.sag, left_3d_deg: L.d3, right_3d_deg: R.d3, camera_distance_m: cam.dist } };
};

window.rendererReady = true;
