/**
 * User accounts of the access service in their own SQLite file: username, scrypt password hash,
 * plan. Password checks run scrypt off the event loop (node's async scrypt uses the thread pool).
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { HttpError } from "../http-error.ts";

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** scrypt cost: N=2^14, r=8, p=1 (the parameters RFC 7914 suggests for interactive logins). */
const COST = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 32;

/** Usernames double as the first path component of the user's repositories. */
export const USERNAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** A user as the API shows it. */
export interface User {
  username: string;
  plan: string;
  createdAt: string;
}

interface UserRow {
  username: string;
  password_hash: string;
  plan: string;
  created_at: number;
}

/** hashPassword returns `scrypt$N$r$p$salt$hash` (base64url parts); rejects only on scrypt failure. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LEN, COST);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** verifyPassword compares in constant time; resolves false for a malformed stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: COST.maxmem });
  return timingSafeEqual(actual, expected);
}

/** validateCredentials throws HttpError 400 naming the bad field; returns the cleaned pair. */
export function validateCredentials(body: unknown): { username: string; password: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "BAD_REQUEST", "body must be a JSON object");
  const { username, password } = body as Record<string, unknown>;
  if (typeof username !== "string" || username.length < 2 || username.length > 32 || !USERNAME_RE.test(username)) {
    throw new HttpError(400, "BAD_REQUEST", "username must be 2-32 characters of a-z, 0-9 and single . _ - between them");
  }
  if (typeof password !== "string" || password.length < 8 || password.length > 256) throw new HttpError(400, "BAD_REQUEST", "password must be 8-256 characters");
  return { username, password };
}

/** Users is the account store; create one per access app and close() it on shutdown. */
export class Users {
  private readonly db: Database.Database;

  /** Opens (creating) the accounts database; throws the better-sqlite3 error on failure. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.exec("CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, plan TEXT NOT NULL, created_at INTEGER NOT NULL)");
  }

  private static toUser(row: UserRow): User {
    return { username: row.username, plan: row.plan, createdAt: new Date(row.created_at).toISOString() };
  }

  /** create adds a user; throws HttpError 409 USERNAME_TAKEN when the name exists. */
  async create(username: string, password: string, plan: string): Promise<User> {
    const hash = await hashPassword(password);
    try {
      this.db.prepare("INSERT INTO users (username, password_hash, plan, created_at) VALUES (?, ?, ?, ?)").run(username, hash, plan, Date.now());
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") throw new HttpError(409, "USERNAME_TAKEN", `username ${username} is taken`);
      throw err;
    }
    return this.get(username) as User;
  }

  /** get returns the user, or undefined when unknown. */
  get(username: string): User | undefined {
    const row = this.db.prepare("SELECT * FROM users WHERE username = ?").get(username) as UserRow | undefined;
    return row && Users.toUser(row);
  }

  /** authenticate resolves the user when the password matches, else undefined (never says which part was wrong). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const row = this.db.prepare("SELECT * FROM users WHERE username = ?").get(username) as UserRow | undefined;
    if (!row) return undefined;
    return (await verifyPassword(password, row.password_hash)) ? Users.toUser(row) : undefined;
  }

  /** setPlan persists a plan change; returns the updated user or undefined when unknown. */
  setPlan(username: string, plan: string): User | undefined {
    this.db.prepare("UPDATE users SET plan = ? WHERE username = ?").run(plan, username);
    return this.get(username);
  }

  /** close closes the database. */
  close(): void {
    this.db.close();
  }
}
