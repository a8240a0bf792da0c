// core/v1 Events on ModelCascades, so `kubectl describe modelcascade` tells the story (applied objects, scaling,
// unschedulable pods, invalid specs). Best effort: a failed Event never fails a reconcile.
import type { Clock } from './clock.js';
import type { KubeRest } from './rest.js';
import { RESOURCES } from './resources.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
  object: string;
}

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private seq = 0;

  constructor(
    private readonly rest: KubeRest,
    private readonly clock: Clock,
    private readonly instance: string,
    private readonly onError: (err: unknown, ev: RecordedEvent) => void = () => undefined,
    private readonly onEmit: (ev: RecordedEvent) => void = () => undefined,
  ) {}

  async emit(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock.now();
    const ns = target.metadata.namespace ?? 'default';
    const ev: RecordedEvent = { type, reason, message, object: `${ns}/${target.metadata.name}` };
    this.onEmit(ev);
    // Same naming scheme as client-go's recorder: <object>.<unique hex>.
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    try {
      await this.rest.create(RESOURCES.events, ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${target.metadata.name}.${suffix}`, namespace: ns },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.metadata.name,
          namespace: ns,
          uid: target.metadata.uid,
          resourceVersion: target.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
        source: { component: 'tiermix-controller' },
        reportingComponent: 'tiermix.dev/controller',
        reportingInstance: this.instance,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        count: 1,
      });
    } catch (err) {
      this.onError(err, ev);
    }
  }
}
