import { readFile } from 'node:fs/promises';

export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * An existing unprivileged account to run PostgreSQL as when we are root: `postgres` if the
 * machine has one, else `nobody`. Nothing is created, so the host is left as it was.
 */
export async function unprivilegedUser(): Promise<OsUser> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const users = new Map<string, OsUser>();
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name !== undefined && uid !== undefined && gid !== undefined) {
      users.set(name, { name, uid: Number(uid), gid: Number(gid) });
    }
  }
  const user = users.get('postgres') ?? users.get('nobody');
  if (user === undefined) {
    throw new Error(
      'running as root and no unprivileged user (postgres or nobody) to run PostgreSQL as',
    );
  }
  return user;
}
