/** Publishes certflow events (EventBridge in AWS, the sandbox bus locally). */
export interface CertflowEvent {
  detailType: string;
  detail: Record<string, unknown>;
}

export interface EventSink {
  publish(events: CertflowEvent[]): Promise<void>;
}
