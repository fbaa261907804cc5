import { join } from 'node:path';
import { messageType } from '../sim/trace.ts';
import { describeSeed, reportBaseName, writeFileAtomic, type Report } from './report.ts';
import { describeAction, describeEntry, describeKnobs } from './text.ts';

/**
 * The HTML timeline of a report: one self-contained page (inline CSS, JS and SVG; no network).
 * A lane per node with its role and term as coloured bands, crashes hatched, message arrows from
 * send to delivery, fault windows shaded, client operations as bars, the violating step marked.
 * The SVG is drawn by the page's script for the visible time range only, so a long trace stays
 * responsive: zoom with the buttons or Ctrl + wheel, scroll sideways, hover for details.
 */
export function renderHtml(report: Report, replayCommand?: string): string {
  const nodes = report.nodes;
  const rows = report.trace.map((e) => [e.i, e.t, e.k, e.n ?? '', e.f ?? '', e.s ?? -1, e.k === 'deliver' || e.k === 'drop' ? messageType(e.d) : '', describeEntry(e)]);
  const faults = report.trace
    .filter((e) => e.k === 'fault')
    .map((e) => {
      const d = e.d as { action: Parameters<typeof describeAction>[0]; outcome: string };
      return { t: e.t, kind: d.action.kind, text: `${describeAction(d.action)} → ${d.outcome}`, outcome: d.outcome };
    });
  const data = {
    nodes,
    rows,
    faults,
    endMs: report.virtualMs,
    violation: { ...report.violation },
    windowHeal: report.trace.find((e) => e.k === 'heal')?.t ?? null,
  };
  const meta: [string, string][] = [
    ['scenario', report.scenario.name + (report.scenario.file ? ` (${report.scenario.file})` : '')],
    ['seed', describeSeed(report)],
    ['implementation', report.implementation + (Object.keys(report.implementationOptions).length ? ` ${JSON.stringify(report.implementationOptions)}` : '')],
    ['knobs drawn', describeKnobs(report.plan) ?? '— (the defaults)'],
    ['raftsim', report.frameworkVersion],
    ['fast-check', report.fastCheck ? `seed ${report.fastCheck.seed}, path ${report.fastCheck.path} (${report.fastCheck.numShrinks} shrinks)` : `— (${report.shrink.method})`],
    ['shrinking', `${report.originalPlan.actions.length} → ${report.plan.actions.length} actions in ${report.shrink.runs} runs${report.shrink.capped ? ' (capped)' : ''}`],
    ['trace', `${report.events.toLocaleString('en-US')} events, ${report.trace.length.toLocaleString('en-US')} recorded${report.traceOmitted ? `, ${report.traceOmitted} omitted` : ''}, hash ${report.traceHash}`],
  ];
  if (replayCommand) meta.push(['replay', replayCommand]);
  const planList = (actions: Report['plan']['actions']): string =>
    actions.length === 0 ? '<li><em>no fault actions</em></li>' : actions.map((a) => `<li><code>${a.at} ms</code> ${esc(describeAction(a))}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>raftsim — ${esc(report.scenario.name)} seed ${report.seed}: ${esc(report.violation.invariant)}</title>
<style>${CSS}</style></head>
<body>
<header>
  <h1>raftsim report — <span class="bad">${esc(report.violation.invariant)}</span></h1>
  <p class="violation">${esc(report.violation.message)} <span class="when">at ${fmt(report.violation.time)} ms, step ${report.violation.step ?? '?'}</span></p>
  <table class="meta">${meta.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
  <details><summary>Fault plans: shrunk (${report.plan.actions.length} actions) and original (${report.originalPlan.actions.length})</summary>
    <div class="plans"><div><h3>shrunk</h3><ol>${planList(report.plan.actions)}</ol></div><div><h3>original</h3><ol>${planList(report.originalPlan.actions)}</ol></div></div>
  </details>
</header>
<div class="toolbar">
  <button id="zin" title="zoom in (Ctrl + wheel)">zoom +</button><button id="zout" title="zoom out (Ctrl + wheel)">zoom −</button><button id="fit">fit</button>
  <button id="goviol">go to violation</button>
  <label><input type="checkbox" id="showMsg" checked> messages</label>
  <label><input type="checkbox" id="showDrop" checked> drops</label>
  <label><input type="checkbox" id="showClients" checked> client ops</label>
  <label><input type="checkbox" id="showTimers"> timers</label>
  <span id="scale"></span>
  <span class="legend"><i class="r-follower"></i>follower <i class="r-candidate"></i>candidate <i class="r-precandidate"></i>pre-candidate <i class="r-leader"></i>leader <i class="r-learner"></i>learner <i class="r-down"></i>down <i class="r-fault"></i>network fault</span>
</div>
<div id="wrap"><div id="labels"></div><div id="scroller"><div id="canvas"></div></div></div>
<div id="tip" hidden></div>
<section><h2>Key events</h2><p class="hint">state changes, faults, client operations and the violation; click a line to centre the timeline on it.</p><ol id="events"></ol></section>
<script type="application/json" id="data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

/** Writes the HTML beside the JSON report (atomically); returns its path. */
export function writeHtml(dir: string, report: Report, replayCommand?: string): string {
  return writeHtmlFile(join(dir, `${reportBaseName(report.scenario.name, report.originalSeed)}.html`), report, replayCommand);
}

export function writeHtmlFile(file: string, report: Report, replayCommand?: string): string {
  writeFileAtomic(file, renderHtml(report, replayCommand));
  return file;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmt(t: number | undefined): string {
  return t === undefined ? '?' : t.toFixed(3);
}

const CSS = `
*{box-sizing:border-box}
body{font:13px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{padding:12px 18px 6px}
h1{font-size:19px;margin:0 0 4px}
h2{font-size:15px;margin:8px 0 2px}
h3{font-size:13px;margin:4px 0}
.bad{color:#c0262d}
.violation{margin:2px 0 8px;padding:6px 10px;background:#fde8e8;border-left:4px solid #c0262d;font-weight:600}
.violation .when{font-weight:400;color:#6b2b2b}
table.meta{border-collapse:collapse;margin-bottom:6px}
table.meta th{text-align:left;padding:1px 12px 1px 0;color:#5a6478;font-weight:500}
table.meta td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.plans{display:flex;gap:40px}.plans ol{margin:0;padding-left:22px}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#5a6478}
.toolbar{position:sticky;top:0;z-index:5;background:#eef1f5;border-top:1px solid #d5dae3;border-bottom:1px solid #d5dae3;padding:5px 18px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.toolbar button{font-size:13px;padding:2px 10px;border:1px solid #b8c0cc;background:#fff;border-radius:4px;cursor:pointer}
.toolbar label{user-select:none}
#scale{color:#5a6478;font-size:12px;min-width:110px}
.legend{margin-left:auto;color:#5a6478;font-size:12px}
.legend i{display:inline-block;width:12px;height:10px;margin:0 3px 0 9px;vertical-align:-1px;border:1px solid #0002}
.r-follower{background:#dfe4ec}.r-candidate{background:#f6c453}.r-precandidate{background:#fae3a5}.r-leader{background:#3fa66b}.r-learner{background:#8fb5e8}
.r-down{background:repeating-linear-gradient(45deg,#444 0 3px,#999 3px 6px)}.r-fault{background:#e8505b40}
#wrap{display:flex;border-bottom:1px solid #d5dae3;background:#fff}
#labels{flex:0 0 70px;position:relative;border-right:1px solid #d5dae3;background:#f4f6f9}
#labels div{position:absolute;left:8px;font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace}
#labels div.sub{font-weight:400;color:#5a6478;font-size:11px}
#scroller{flex:1;overflow-x:auto;overflow-y:hidden;position:relative}
#canvas{position:relative}
svg text{font-family:ui-monospace,Menlo,Consolas,monospace}
#tip{position:fixed;z-index:10;max-width:560px;background:#1d2330;color:#f3f5f8;padding:6px 9px;border-radius:5px;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;pointer-events:none;white-space:pre-wrap;word-break:break-word;box-shadow:0 3px 12px #0004}
section{padding:6px 18px 30px}
.hint{color:#5a6478;margin:0 0 6px}
#events{font:12px/1.5 ui-monospace,Menlo,Consolas,monospace;max-height:340px;overflow:auto;border:1px solid #d5dae3;background:#fff;margin:0;padding:4px 4px 4px 52px}
#events li{cursor:pointer;white-space:pre}
#events li:hover{background:#eef1f5}
#events li.k-violation{color:#c0262d;font-weight:700}
#events li.k-fault,#events li.k-heal{color:#8a3ea8}
#events li.k-state{color:#1d5e3a}
`;

const SCRIPT = `
(function(){
'use strict';
var D = JSON.parse(document.getElementById('data').textContent);
var NODES = D.nodes, ROWS = D.rows, END = Math.max(D.endMs, 1);
var I=0,T=1,K=2,N=3,F=4,S=5,MT=6,TXT=7;
var LANE=46, BAND=20, TOP=30, CLIENT_ROW=9;
var laneOf = {}; NODES.forEach(function(n,i){ laneOf[n]=i; });
var ROLE_COLOR = {follower:'#dfe4ec',candidate:'#f6c453',precandidate:'#fae3a5',leader:'#3fa66b',learner:'#8fb5e8',unknown:'#eef0f4'};

// ---- derive bands, faults and client operations from the trace ----------------------------
var bands = NODES.map(function(){ return []; });        // [start,end,role,term,row]
var downs = NODES.map(function(){ return []; });        // [start,end]
var skews = NODES.map(function(){ return []; });
var cur = NODES.map(function(){ return {start:0, role:'unknown', term:null, row:-1}; });
var downSince = NODES.map(function(){ return null; });
function closeBand(li, t){ var c=cur[li]; if (t>c.start || c.role!=='unknown') bands[li].push([c.start,t,c.role,c.term,c.row]); }
function setBand(li, t, role, term, row){ closeBand(li,t); cur[li]={start:t, role:role, term:term, row:row}; }
var netFaults = [];   // [start,end,label,row]
var openNet = null;
var clients = {}, clientNames = [];
var viol = D.violation;
ROWS.forEach(function(r, idx){
  var k=r[K], li=laneOf[r[N]];
  if (k==='state' && li!==undefined){
    var m = /^(\\S+) term (\\d+)/.exec(r[TXT]);
    setBand(li, r[T], m?m[1]:'unknown', m?+m[2]:null, idx);
  } else if (k==='fault'){
    var txt=r[TXT], out=(txt.split(' → ')[1]||'');
    var mc = /^(\\S+) crashed/.exec(out), mr=/^restarted (\\S+)/.exec(out), ms=/^(\\S+)'s clock runs at ([\\d.]+)x/.exec(out);
    if (mc && laneOf[mc[1]]!==undefined){ var l=laneOf[mc[1]]; if (downSince[l]===null){ downSince[l]=r[T]; setBand(l,r[T],'down',null,idx);} }
    if (mr && laneOf[mr[1]]!==undefined){ var l2=laneOf[mr[1]]; if (downSince[l2]!==null){ downs[l2].push([downSince[l2],r[T],idx]); downSince[l2]=null; setBand(l2,r[T],'unknown',null,idx);} }
    if (ms && laneOf[ms[1]]!==undefined) skews[laneOf[ms[1]]].push([r[T], +ms[2], idx]);
    if (/^(partition|isolate|cut|bridge|link)$/.test(txt.split(' ')[0]) && !/^skipped/.test(out)){
      if (openNet) { openNet[1]=r[T]; netFaults.push(openNet); }
      openNet=[r[T], null, openNet ? openNet[2]+' + '+txt.split(' → ')[0] : txt.split(' → ')[0], idx];
    } else if (/^heal/.test(txt) && openNet){ openNet[1]=r[T]; netFaults.push(openNet); openNet=null; }
  } else if (k==='heal'){
    if (openNet){ openNet[1]=r[T]; netFaults.push(openNet); openNet=null; }
    NODES.forEach(function(_,l){ if (downSince[l]!==null){ downs[l].push([downSince[l],r[T],idx]); downSince[l]=null; setBand(l,r[T],'unknown',null,idx);} });
  } else if (k==='invoke'){
    var c=r[N]; if (!clients[c]){ clients[c]=[]; clientNames.push(c); }
    clients[c].push([r[T], null, 'pending', idx, r[TXT]]);
  } else if (k==='complete'){
    var ops=clients[r[N]]; if (ops && ops.length){ var op=ops[ops.length-1]; if (op[1]===null){ op[1]=r[T]; var st=/→ (\\w+)/.exec(r[TXT]); op[2]=st?st[1]:'ok'; op[3]=idx; op[4]=r[TXT]; } }
  }
});
NODES.forEach(function(_,l){ closeBand(l, END); if (downSince[l]!==null) downs[l].push([downSince[l],END,-1]); });
if (openNet){ openNet[1]=END; netFaults.push(openNet); }
Object.keys(clients).forEach(function(c){ clients[c].forEach(function(op){ if (op[1]===null){ op[1]=END; } }); });

// ---- layout ---------------------------------------------------------------------------------
var nodesH = TOP + NODES.length*LANE;
var clientsTop = nodesH + 14;
var height = clientsTop + clientNames.length*CLIENT_ROW + 24;
var labels = document.getElementById('labels');
labels.style.height = height+'px';
NODES.forEach(function(n,i){ var d=document.createElement('div'); d.textContent=n; d.style.top=(TOP+i*LANE+LANE/2-9)+'px'; labels.appendChild(d); });
if (clientNames.length){ var d=document.createElement('div'); d.className='sub'; d.textContent='clients'; d.style.top=(clientsTop-2)+'px'; labels.appendChild(d); }
var scroller=document.getElementById('scroller'), canvas=document.getElementById('canvas');
canvas.style.height=height+'px';
var pxPerMs = 1, MAXW = 4e6;
function fit(){ pxPerMs = Math.max(1e-4, (scroller.clientWidth-20)/END); layout(); }
function layout(){ var w=Math.min(MAXW, END*pxPerMs+20); pxPerMs=(w-20)/END; canvas.style.width=w+'px'; document.getElementById('scale').textContent = (pxPerMs>=1? pxPerMs.toFixed(1)+' px/ms' : (1/pxPerMs).toFixed(1)+' ms/px'); draw(); }
function x(t){ return 10 + t*pxPerMs; }
function laneY(l){ return TOP + l*LANE; }
var opt = {msg:true, drop:true, clients:true, timers:false};
['Msg','Drop','Clients','Timers'].forEach(function(name){ var el=document.getElementById('show'+name); el.addEventListener('change', function(){ opt[name.toLowerCase()]=el.checked; draw(); }); });

// ---- drawing (only what is visible) -------------------------------------------------------
var NS='http://www.w3.org/2000/svg';
var svg=document.createElementNS(NS,'svg'); canvas.appendChild(svg);
var hueCache={};
function hue(s){ if (hueCache[s]!==undefined) return hueCache[s]; var h=0; for (var i=0;i<s.length;i++) h=(h*31+s.charCodeAt(i))>>>0; return hueCache[s]=h%360; }
var drawQueued=false;
function draw(){ if (drawQueued) return; drawQueued=true; requestAnimationFrame(function(){ drawQueued=false; render(); }); }
function render(){
  var left=scroller.scrollLeft, width=scroller.clientWidth;
  var t0=Math.max(0,(left-10)/pxPerMs - 50/pxPerMs), t1=(left+width-10)/pxPerMs + 50/pxPerMs;
  var vx=Math.max(0,left-60), vw=width+120;
  svg.setAttribute('width', canvas.style.width); svg.setAttribute('height', height);
  var out=[];
  function rect(x1,y,w,h,fill,extra){ out.push('<rect x="'+x1.toFixed(1)+'" y="'+y+'" width="'+Math.max(w,0.6).toFixed(1)+'" height="'+h+'" fill="'+fill+'"'+(extra||'')+'/>'); }
  // defs
  out.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#9a9a9a"/><rect width="3" height="6" fill="#474747"/></pattern>'+
    '<marker id="ah" viewBox="0 0 6 6" refX="5.5" refY="3" markerWidth="5" markerHeight="5" orient="auto"><path d="M0,0L6,3L0,6z" fill="context-stroke"/></marker></defs>');
  // lanes
  NODES.forEach(function(_,l){ rect(vx, laneY(l), vw, LANE, l%2? '#fbfcfd':'#ffffff'); out.push('<line x1="'+vx+'" x2="'+(vx+vw)+'" y1="'+(laneY(l)+LANE)+'" y2="'+(laneY(l)+LANE)+'" stroke="#e4e8ee"/>'); });
  // network faults shaded over every lane
  netFaults.forEach(function(f){ if (f[1]<t0||f[0]>t1) return; rect(x(f[0]), TOP-4, (f[1]-f[0])*pxPerMs, NODES.length*LANE+4, '#e8505b', ' opacity="0.13" data-r="'+f[3]+'"'); });
  // time axis
  var step = niceStep(90/pxPerMs);
  for (var t=Math.floor(t0/step)*step; t<=t1; t+=step){ if (t<0) continue; out.push('<line x1="'+x(t).toFixed(1)+'" x2="'+x(t).toFixed(1)+'" y1="18" y2="'+nodesH+'" stroke="#eef1f5"/><text x="'+(x(t)+2).toFixed(1)+'" y="14" font-size="10" fill="#7a8598">'+fmtT(t)+'</text>'); }
  // role bands
  NODES.forEach(function(_,l){
    var y=laneY(l)+(LANE-BAND)/2;
    bands[l].forEach(function(b){ if (b[1]<t0||b[0]>t1||b[2]==='down') return; var w=(b[1]-b[0])*pxPerMs; rect(x(b[0]), y, w, BAND, ROLE_COLOR[b[2]]||'#ccc', ' data-r="'+b[4]+'" stroke="#0001"');
      if (b[3]!==null && w>22) out.push('<text x="'+(x(Math.max(b[0],t0))+4).toFixed(1)+'" y="'+(y+14)+'" font-size="11" fill="'+(b[2]==='leader'?'#fff':'#333')+'" pointer-events="none">'+(b[2]==='leader'?'L ':'')+'t'+b[3]+'</text>'); });
    downs[l].forEach(function(d){ if (d[1]<t0||d[0]>t1) return; rect(x(d[0]), y-3, (d[1]-d[0])*pxPerMs, BAND+6, 'url(#hatch)', ' data-r="'+d[2]+'"'); });
    skews[l].forEach(function(s){ if (s[0]>t1) return; out.push('<text x="'+(x(s[0])+2).toFixed(1)+'" y="'+(laneY(l)+9)+'" font-size="9" fill="#7b3fa0" data-r="'+s[2]+'">⏱'+s[1]+'x</text>'); });
  });
  // events: messages, drops, timers
  var midY=function(n){ return laneY(laneOf[n])+LANE/2; };
  for (var i=lowerBound(t0-3000); i<ROWS.length && ROWS[i][T]<=t1; i++){
    var r=ROWS[i], k=r[K];
    if (k==='deliver' && opt.msg && laneOf[r[N]]!==undefined && laneOf[r[F]]!==undefined){
      var sx=x(r[S]>=0?r[S]:r[T]), ex=x(r[T]);
      if (ex < vx) continue;
      var col='hsl('+hue(r[MT])+',60%,42%)';
      out.push('<line x1="'+sx.toFixed(1)+'" y1="'+midY(r[F])+'" x2="'+ex.toFixed(1)+'" y2="'+midY(r[N])+'" stroke="'+col+'" stroke-width="1.1" opacity="0.75" marker-end="url(#ah)" data-r="'+i+'"/>');
    } else if (k==='drop' && opt.drop && laneOf[r[N]]!==undefined){
      var dx=x(r[T]), dy=midY(r[N]);
      out.push('<path d="M'+(dx-3)+','+(dy-3)+'l6,6m0,-6l-6,6" stroke="#d32f2f" stroke-width="1.4" data-r="'+i+'"/>');
    } else if (k==='timer' && opt.timers && laneOf[r[N]]!==undefined){
      out.push('<circle cx="'+x(r[T]).toFixed(1)+'" cy="'+(laneY(laneOf[r[N]])+LANE-5)+'" r="2" fill="#6b7a90" data-r="'+i+'"/>');
    }
  }
  // fault markers
  ROWS.forEach(function(r,i){ if ((r[K]==='fault'||r[K]==='heal') && r[T]>=t0 && r[T]<=t1){ out.push('<line x1="'+x(r[T]).toFixed(1)+'" x2="'+x(r[T]).toFixed(1)+'" y1="20" y2="'+nodesH+'" stroke="#8a3ea8" stroke-dasharray="3,3" data-r="'+i+'"/><path d="M'+(x(r[T])-5).toFixed(1)+',18l5,7l5,-7z" fill="#8a3ea8" data-r="'+i+'"/>'); } });
  // client operations
  if (opt.clients) clientNames.forEach(function(c,ci){
    var y=clientsTop+ci*CLIENT_ROW;
    clients[c].forEach(function(op){ if (op[1]<t0||op[0]>t1) return; var col= op[2]==='ok'?'#3fa66b': op[2]==='timeout'?'#f0a030': op[2]==='fail'?'#d32f2f':'#9aa5b5'; rect(x(op[0]), y, (op[1]-op[0])*pxPerMs, CLIENT_ROW-3, col, ' data-r="'+op[3]+'" rx="1"'); });
  });
  // violation
  if (viol && viol.time!==undefined){ var vxp=x(viol.time), lw=viol.invariant.length*7+18, lx = (vxp+4+lw > left+width) ? vxp-4-lw : vxp+4;
    out.push('<line x1="'+vxp.toFixed(1)+'" x2="'+vxp.toFixed(1)+'" y1="0" y2="'+height+'" stroke="#c0262d" stroke-width="2.5" data-v="1"/><rect x="'+lx.toFixed(1)+'" y="1" width="'+lw+'" height="15" rx="3" fill="#c0262d" data-v="1"/><text x="'+(lx+7).toFixed(1)+'" y="12" font-size="11" fill="#fff" data-v="1">✗ '+esc(viol.invariant)+'</text>'); }
  svg.innerHTML=out.join('');
}
function lowerBound(t){ var lo=0, hi=ROWS.length; while(lo<hi){ var m=(lo+hi)>>1; if (ROWS[m][T]<t) lo=m+1; else hi=m; } return lo; }
function niceStep(raw){ var p=Math.pow(10,Math.floor(Math.log10(Math.max(raw,1e-3)))); var m=raw/p; return (m<=1?1:m<=2?2:m<=5?5:10)*p; }
function fmtT(t){ return t>=1000 ? (t/1000).toFixed(t%1000===0?0:2)+'s' : (+t.toFixed(3))+'ms'; }
function esc(s){ return String(s).replace(/[&<>"]/g,function(c){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]; }); }

// ---- interaction ----------------------------------------------------------------------------
function zoomAt(factor, clientX){
  var rect=scroller.getBoundingClientRect(); var px=(clientX===undefined? rect.width/2 : clientX-rect.left);
  var t=(scroller.scrollLeft+px-10)/pxPerMs;
  pxPerMs=Math.min(Math.max(pxPerMs*factor, (scroller.clientWidth-20)/END/2), 400);
  layout(); scroller.scrollLeft = t*pxPerMs+10-px; draw();
}
function centreOn(t){ if (pxPerMs < 2) { pxPerMs = Math.min(400, Math.max(2, 800/ Math.max(1, Math.min(END, 400)))); layout(); } scroller.scrollLeft = x(t) - scroller.clientWidth/2; draw(); }
document.getElementById('zin').onclick=function(){ zoomAt(2); };
document.getElementById('zout').onclick=function(){ zoomAt(0.5); };
document.getElementById('fit').onclick=fit;
document.getElementById('goviol').onclick=function(){ if (viol && viol.time!==undefined) centreOn(viol.time); };
scroller.addEventListener('scroll', draw);
scroller.addEventListener('wheel', function(e){ if (e.ctrlKey||e.metaKey){ e.preventDefault(); zoomAt(e.deltaY<0?1.25:0.8, e.clientX); } }, {passive:false});
window.addEventListener('resize', draw);
var tip=document.getElementById('tip');
svg.addEventListener('mousemove', function(e){
  var el=e.target, r=el.getAttribute && el.getAttribute('data-r'), text=null;
  if (el.getAttribute && el.getAttribute('data-v')) text='VIOLATION '+viol.invariant+' at '+viol.time+' ms (step '+viol.step+')\\n'+viol.message;
  else if (r!==null && r!==undefined && +r>=0){ var row=ROWS[+r]; text=row[T].toFixed(3)+' ms  #'+row[I]+'  '+(row[N]||'')+'  '+row[K]+'\\n'+row[TXT]; }
  else { var t=(e.clientX-svg.getBoundingClientRect().left-10)/pxPerMs; text=fmtT(Math.max(0,+t.toFixed(3))); }
  tip.textContent=text; tip.hidden=false;
  var tx=e.clientX+14, ty=e.clientY+14; if (tx+420>window.innerWidth) tx=e.clientX-430; tip.style.left=tx+'px'; tip.style.top=ty+'px';
});
svg.addEventListener('mouseleave', function(){ tip.hidden=true; });
// key events list
var list=document.getElementById('events'), frag=document.createDocumentFragment(), shown=0;
ROWS.forEach(function(r){ if (!/^(state|fault|heal|violation|complete)$/.test(r[K])) return; if (shown++>5000) return; var li=document.createElement('li'); li.className='k-'+r[K]; li.textContent=r[T].toFixed(3).padStart(10)+' ms  '+(r[N]||'').padEnd(4)+' '+r[K].padEnd(9)+' '+r[TXT]; li.onclick=function(){ centreOn(r[T]); }; frag.appendChild(li); });
list.appendChild(frag);
fit();
// #t=<ms>&z=<px per ms> in the address centres the timeline there (for links and screenshots).
var h=/t=([\\d.]+)/.exec(location.hash), z=/z=([\\d.]+)/.exec(location.hash);
if (z){ pxPerMs=+z[1]; layout(); }
if (h){ scroller.scrollLeft = x(+h[1]) - scroller.clientWidth/2; draw(); }
})();
`;
