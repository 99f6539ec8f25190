/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- mongoose declares schema type
   options as a class, but schema definitions are plain objects by design. */
import { Schema, type Connection, type Model } from 'mongoose';
import type { MaintenanceSession } from '../domain/maintenance-session.ts';
import { maxLogLinesPerAction } from '../domain/session-work.ts';

/** A line of an action's log, as a session's log-line event carried it. */
export interface LogLine {
  sessionId: string;
  actionId: string;
  commandId: string;
  index: number;
  line: string;
  loggedAt: Date;
}

/**
 * One kept line. The id names the line's slot among the last `maxLogLinesPerAction` lines of its action, so a
 * chatty script overwrites its oldest lines instead of growing the store, and a session's lines are read by id.
 */
interface LogLineDocument extends LogLine {
  _id: string;
}

const logLineSchema = new Schema<LogLineDocument>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true },
    actionId: { type: String, required: true },
    commandId: { type: String, required: true },
    index: { type: Number, required: true },
    line: { type: String, required: true },
    loggedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

function slotId(sessionId: string, actionId: string, index: number): string {
  return `${sessionId}:${actionId}:${index % maxLogLinesPerAction}`;
}

export class LogLineRepository {
  private readonly model: Model<LogLineDocument>;

  constructor(conn: Connection) {
    this.model = conn.model<LogLineDocument>('LogLine', logLineSchema, 'session_log_lines');
  }

  /**
   * Stores lines: the first lines of an action in one insert (a line stored already by an interrupted earlier
   * attempt is skipped), the lines that overwrite an older one in one bulk write.
   */
  async append(lines: readonly LogLine[]): Promise<void> {
    const fresh = lines.filter((line) => line.index < maxLogLinesPerAction);
    const wrapped = lines.filter((line) => line.index >= maxLogLinesPerAction);
    if (fresh.length > 0) {
      const docs = fresh.map((line) => ({ _id: slotId(line.sessionId, line.actionId, line.index), ...line }));
      await this.model.insertMany(docs, { ordered: false, lean: true }).catch((error: unknown) => {
        const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
        if (!Array.isArray(writeErrors) || writeErrors.some((writeError) => writeError.code !== 11000))
          throw error;
      });
    }
    if (wrapped.length > 0) {
      await this.model.bulkWrite(
        wrapped.map((line) => {
          const _id = slotId(line.sessionId, line.actionId, line.index);
          return { replaceOne: { filter: { _id }, replacement: { _id, ...line }, upsert: true } };
        }),
        { ordered: false },
      );
    }
  }

  /** The kept lines of each action of the session, oldest first, by action id. */
  async recent(session: MaintenanceSession): Promise<Map<string, string[]>> {
    const firstKept = new Map<string, number>();
    const ids = session.actions.flatMap((action) => {
      const first = Math.max(0, action.logLines - maxLogLinesPerAction);
      firstKept.set(action.id, first);
      return Array.from({ length: action.logLines - first }, (_, n) =>
        slotId(session.id, action.id, first + n),
      );
    });
    const docs =
      ids.length === 0 ? [] : await this.model.find({ _id: { $in: ids } }).lean<LogLineDocument[]>();
    docs.sort((a, b) => a.index - b.index);
    const byAction = new Map<string, string[]>();
    for (const doc of docs) {
      // A slot still holding a line older than the window: the line that replaces it was not stored.
      if (doc.index < (firstKept.get(doc.actionId) ?? 0)) continue;
      byAction.set(doc.actionId, [...(byAction.get(doc.actionId) ?? []), doc.line]);
    }
    return byAction;
  }
}
