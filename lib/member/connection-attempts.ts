import { ChannelCredentials, type CallCredentials } from '@grpc/grpc-js';
import type { Socket } from 'node:net';

/** grpc-js's per-connection hook of a credentials object, typed from its public class. */
type CreateSecureConnector = ChannelCredentials['_createSecureConnector'];
type SecureConnector = ReturnType<CreateSecureConnector>;
type SecureConnectResult = Awaited<ReturnType<SecureConnector['connect']>>;

/**
 * The sockets one member channel opened, so that the pool can release the ones grpc-js
 * cannot. grpc-js (1.14) waits for a server's first HTTP/2 SETTINGS frame with no time
 * limit, and neither `channel.close()` nor anything else ends that wait
 * (`Http2SubchannelConnector.shutdown()` exists but nothing calls it): against a server that
 * accepts TCP and never speaks HTTP/2, every closed channel would leave its socket open.
 *
 * grpc-js hands every socket it opens to its channel's credentials before the HTTP/2
 * handshake (`SecureConnector.connect(socket)`), so credentials wrapped by `wrap()` see each
 * one. A socket that has not read a single byte has never carried a call; `abort()` destroys
 * those, and leaves connections that did hear from the server to grpc-js's graceful close.
 */
export class ConnectionAttempts {
  /** Raw socket → the socket the HTTP/2 session runs on (itself, or TLS over it) once secured. */
  private readonly sockets = new Map<Socket, Socket | undefined>();
  private aborted = false;
  /** The socket of the newest connection that got through its handshake. */
  private newest: Socket | undefined = undefined;

  /**
   * Whether the newest connection's socket is still open. When grpc-js reports a READY
   * connection gone, an open socket means the server said GOAWAY and is letting calls
   * finish; a closed one, that the connection was cut.
   */
  hasOpenConnection(): boolean {
    return this.newest !== undefined && !this.newest.destroyed && this.newest.readable;
  }

  /**
   * `credentials` for one member channel, recording its sockets here. Without grpc-js's
   * connector hook (grpc-js before 1.13) they are left as they are.
   */
  wrap(credentials: ChannelCredentials): ChannelCredentials {
    if (typeof credentials._createSecureConnector !== 'function') {
      return credentials;
    }
    return new RecordingCredentials(credentials, this);
  }

  /**
   * The channel is closed for good: destroys every socket of it that never heard from the
   * server, now and whenever a late one shows up. Returns how many it destroyed now.
   */
  abort(): number {
    this.aborted = true;
    let destroyed = 0;
    for (const [raw, secured] of this.sockets) {
      // A TLS handshake still pending counts as an attempt too: no call has used it.
      if (secured === undefined || secured.bytesRead === 0) {
        raw.destroy();
        secured?.destroy();
        this.sockets.delete(raw);
        destroyed++;
      }
    }
    return destroyed;
  }

  /**
   * The channel is closed and its calls have ended: waits up to `graceMs` for its remaining
   * connections to finish grpc-js's graceful close, then destroys what is still open, and
   * (as after `abort()`) any connection made later. Resolves once every socket is gone;
   * returns how many it had to destroy.
   *
   * Why: grpc-js closes a connection with `session.close()` (transport.js `shutdown()`), and
   * Node then only half-closes the socket (`socket.end()`) and waits for the server's FIN.
   * A server that stops reading never sends one: Node's HTTP/2 server stops reading a
   * connection once it has sent the GOAWAY that ends it for rapid reset (nghttp2 wants no
   * more input), so that connection, its socket and the server's session outlived close().
   * Every call has ended by now, so destroying loses nothing.
   */
  async release(graceMs: number): Promise<number> {
    this.abort();
    const open = [...this.sockets.keys()];
    if (open.length === 0) {
      return 0;
    }
    // The grace timer stays ref'd: close() waits for it, and these sockets may keep nothing
    // alive (grpc-js unrefs a session with no call). Unref'd, an app with nothing else running
    // would exit mid-close (an ESM top-level `await app.close()` with code 13).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.map((socket) => new Promise((done) => socket.once('close', done)))),
      new Promise((done) => (timer = setTimeout(done, graceMs))),
    ]);
    clearTimeout(timer);
    let destroyed = 0;
    for (const [raw, secured] of this.sockets) {
      raw.destroy();
      secured?.destroy();
      destroyed++;
    }
    this.sockets.clear();
    return destroyed;
  }

  /** grpc-js is about to secure `socket`: record it until it closes. */
  connect(
    socket: Socket,
    secure: () => Promise<SecureConnectResult>,
  ): Promise<SecureConnectResult> {
    if (this.aborted) {
      // Connected after its channel was closed: nobody will use it.
      socket.destroy();
      return Promise.reject(new Error('nestjs-grpc-pool: the channel was closed while connecting'));
    }
    this.sockets.set(socket, undefined);
    socket.once('close', () => this.sockets.delete(socket));
    return secure().then((result) => {
      if (this.sockets.has(socket)) {
        this.sockets.set(socket, result.socket);
        this.newest = result.socket;
      }
      if (this.aborted && result.socket.bytesRead === 0) {
        result.socket.destroy();
      }
      return result;
    });
  }
}

/**
 * A member's credentials as grpc-js sees them: the user's, with every socket recorded.
 * Equal only to itself, so that no other channel could ever share its connections.
 */
class RecordingCredentials extends ChannelCredentials {
  constructor(
    private readonly inner: ChannelCredentials,
    private readonly attempts: ConnectionAttempts,
  ) {
    super();
  }

  override compose(callCredentials: CallCredentials): ChannelCredentials {
    return new RecordingCredentials(this.inner.compose(callCredentials), this.attempts);
  }

  _isSecure(): boolean {
    return this.inner._isSecure();
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(...args: Parameters<CreateSecureConnector>): SecureConnector {
    const inner = this.inner._createSecureConnector(...args);
    return {
      connect: (socket) => this.attempts.connect(socket, () => inner.connect(socket)),
      waitForReady: () => inner.waitForReady(),
      getCallCredentials: () => inner.getCallCredentials(),
      destroy: () => inner.destroy(),
    };
  }
}
