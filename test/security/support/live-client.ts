import { SocketClient } from '../../support/socket-client.js'
import { SITE } from './security-app.js'

/** The security tests' socket: the shared test socket client. */
export type Client = SocketClient
export const Client = {
  /** Opens `url` with Origin SITE unless `headers` says otherwise. */
  open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    return SocketClient.connect(url, { origin: SITE, ...headers })
  },
}
