// The simulated vLLM server: routes, fault injection, start-up and shutdown. Everything it serves is
// labelled as simulated (header x-tiermix-simulated: true, the startup log, tiermix_simulator_info).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createExpressServer } from '../server/express-http-server.js';
import { formatVerifierSpec } from '../verify/simulated-verifier.js';
import {
  GENERATED_MODEL_ACCURACY,
  generatedQuestions,
  listDataModels,
  loadMmluPro,
  loadModelOutputs,
  resolveDataModel,
  type MmluQuestion,
  type ModelOutput,
} from './dataset.js';
import { Engine, realClock, type EngineStats } from './engine.js';
import { fastGenerationRoute } from './fast-route.js';
import { handleGeneration, type GenerationContext } from './generation.js';
import { sendJson } from '../server/send-json.js';
import { SimMetrics } from './metrics.js';
import { FaultSettingsSchema, resolveOptions, type FaultSettings, type ResolvedOptions, type SimulatorOptions } from './options.js';
import { describeZodError, errorBody } from './protocol.js';
import { QuestionIndex } from './question-index.js';
import { Responder } from './responder.js';
import { seededRng } from './rng.js';

export interface RunningSimulator {
  /** Base URL without /v1, e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** Change fault injection at runtime (same as POST /admin/faults). */
  setFaults(faults: Partial<FaultSettings>): FaultSettings;
  stats(): EngineStats;
  close(): Promise<void>;
}

interface World {
  questions: readonly MmluQuestion[];
  outputs: ReadonlyMap<number, ModelOutput>;
  dataModel: string | null;
  accuracy: number;
  answers: string;
}

/** The questions this simulator recognises and the model it plays among them. */
async function loadWorld(o: ResolvedOptions): Promise<World> {
  let questions: readonly MmluQuestion[];
  let outputs: ReadonlyMap<number, ModelOutput> = new Map();
  let dataModel: string | null;
  let answers: string;
  if (o.questions) {
    questions = o.questions;
    dataModel = resolveDataModel(Object.keys(questions[0]?.perModel ?? {}), o.model);
    answers = `${questions.length} questions given by the caller`;
  } else if (o.dataDir) {
    dataModel = resolveDataModel(await listDataModels(o.dataDir), o.model);
    questions = await loadMmluPro(o.dataDir, { models: dataModel ? [dataModel] : [] });
    if (dataModel) outputs = await loadModelOutputs(o.dataDir, dataModel);
    else o.logger.warn(`model ${o.model} is not in ${o.dataDir}: questions are recognised but answers are generated`);
    answers = `MMLU-Pro from ${o.dataDir} (${questions.length} questions, ${outputs.size} real outputs)`;
  } else {
    questions = generatedQuestions(o.generatedCount, o.generatedSeed);
    dataModel = resolveDataModel(Object.keys(GENERATED_MODEL_ACCURACY), o.model);
    answers = `${questions.length} generated questions (seed ${o.generatedSeed}; no data folder)`;
  }
  const scored = dataModel ? questions.filter((q) => q.perModel[dataModel!]) : [];
  const accuracy =
    scored.length > 0
      ? scored.filter((q) => q.perModel[dataModel!]!.correct).length / scored.length
      : (GENERATED_MODEL_ACCURACY[dataModel ?? ''] ?? 0.5);
  return { questions, outputs, dataModel, accuracy, answers };
}

const isGenerationPath = (path: string) => path === '/v1/completions' || path === '/v1/chat/completions';
const BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const o = resolveOptions(options);
  const world = await loadWorld(o);
  const faults: FaultSettings = { failRate: o.failRate, slowFactor: o.slowFactor, dropRate: o.dropRate };
  const faultRng = seededRng(o.seed);
  let engine: Engine | null = null;
  const metrics = new SimMetrics({ modelName: o.servedModelName, profile: o.profile.name, timeScale: o.timeScale }, () => engine!.stats());
  engine = new Engine(
    {
      profile: o.profile,
      maxNumSeqs: o.maxNumSeqs,
      maxWaiting: o.maxWaiting,
      kvCapacityTokens: o.kvCapacityTokens,
      timeScale: o.timeScale,
      slowFactor: () => faults.slowFactor,
    },
    realClock,
    metrics.events(),
  );
  const responder = new Responder({
    servedModel: o.servedModelName,
    dataModel: world.dataModel,
    index: new QuestionIndex(world.questions),
    outputs: world.outputs,
    accuracy: world.accuracy,
    verifier: o.verifier,
  });
  const ctx: GenerationContext = { servedModelName: o.servedModelName, maxModelLen: o.maxModelLen, maxWaiting: o.maxWaiting, engine, responder };
  const createdAt = Math.floor(Date.now() / 1000);
  let readyAt = Infinity;
  const ready = () => Date.now() >= readyAt;

  const setFaults = (change: Partial<FaultSettings>): FaultSettings => {
    Object.assign(faults, Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)));
    o.logger.warn(`fault injection now failRate=${faults.failRate} slowFactor=${faults.slowFactor} dropRate=${faults.dropRate}`);
    return { ...faults };
  };

  // Fault injection acts on generation requests before anything is read: a dropped request is never
  // read, a failed one never parsed. True when it answered (or dropped) the request.
  const injectFault = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (faults.dropRate > 0 && faultRng() < faults.dropRate) {
      req.socket.destroy();
      return true;
    }
    if (faults.failRate > 0 && faultRng() < faults.failRate) {
      sendJson(res, 500, errorBody(500, 'Simulated engine failure (tiermix sim fault injection, --fail-rate).'));
      return true;
    }
    return false;
  };
  const replyError = (err: unknown, res: ServerResponse): void => {
    const e = err as { type?: string; status?: number; message?: string };
    if (res.headersSent) return void res.end();
    if (e.type === 'entity.parse.failed') return sendJson(res, 400, errorBody(400, `Invalid JSON body: ${e.message ?? ''}`));
    if (e.status && e.status >= 400 && e.status < 500) return sendJson(res, e.status, errorBody(400, e.message ?? 'Bad request'));
    o.logger.warn(`internal error: ${e.message ?? String(err)}`);
    sendJson(res, 500, errorBody(500, 'Internal error in the simulator.'));
  };

  const app = express();
  app.disable('x-powered-by');
  // vLLM (uvicorn) sends no ETag.
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('x-tiermix-simulated', 'true');
    next();
  });
  app.use((req, res, next) => {
    if (req.method !== 'POST' || !isGenerationPath(req.path) || !injectFault(req, res)) next();
  });
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));

  app.get('/health', (_req, res) => void res.status(ready() ? 200 : 503).end());
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.text());
  });
  app.get('/admin/faults', (_req, res) => void res.json(faults));
  app.post('/admin/faults', (req, res) => {
    const parsed = FaultSettingsSchema.safeParse(req.body ?? {});
    if (!parsed.success) return void res.status(400).json(errorBody(400, describeZodError(parsed.error)));
    res.json(setFaults(parsed.data));
  });
  app.use('/v1', (_req, res, next) => {
    if (ready()) return next();
    res.status(503).json(errorBody(503, 'The server is starting up (simulated --startup-seconds).'));
  });
  app.get('/v1/models', (_req, res) => {
    res.json({
      object: 'list',
      data: [
        {
          id: o.servedModelName,
          object: 'model',
          created: createdAt,
          owned_by: 'vllm',
          root: o.model,
          parent: null,
          max_model_len: o.maxModelLen,
          permission: [],
        },
      ],
    });
  });
  app.post('/v1/completions', (req, res) => handleGeneration('completion', ctx, req.body, res));
  app.post('/v1/chat/completions', (req, res) => handleGeneration('chat', ctx, req.body, res));
  app.use((_req, res) => void res.status(404).json({ detail: 'Not Found' }));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => replyError(err, res));

  const fastRoute = fastGenerationRoute({ ctx, ready, limitBytes: BODY_LIMIT_BYTES, injectFault, replyError });
  const server: Server = createExpressServer(app, fastRoute);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  readyAt = Date.now() + o.startupSeconds * 1000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  o.logger.info(
    `SIMULATED vLLM server (tiermix sim: no model weights, no GPU; texts, latencies and verdicts are simulated) ` +
      `model=${o.model} served-as=${o.servedModelName} profile=${o.profile.name} (${o.profile.hardware}) ` +
      `max-num-seqs=${o.maxNumSeqs} time-scale=${o.timeScale} answers: ${world.answers}; ` +
      `verifier ${formatVerifierSpec(o.verifier)}; listening on ${url}`,
  );
  return {
    url,
    port,
    setFaults,
    stats: () => engine!.stats(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
