#!/usr/bin/env node
// jianfu's WeChat gateway: a wechaty PuppetServer on 127.0.0.1 around the puppet named in the env.
//
// Environment:
//   JIANFU_PUPPET_TOKEN   required; the token python-wechaty must present (never printed)
//   JIANFU_PUPPET         "mock" (tests), "wechaty-puppet-wechat4u" (default), or any npm puppet
//   JIANFU_GATEWAY_PORT   TCP port on 127.0.0.1, default 8788; 0 picks a free port
//   JIANFU_GATEWAY_SESSION  optional file keeping the puppet's login session across restarts
// stdout carries only JSON lines ({"event":"ready","port":N}, login/logout/scan, and in mock
// mode the scenario replies and messages); human-readable logs go to stderr.

import net from 'node:net'
import path from 'node:path'

import { MemoryCard } from 'memory-card'
import qrcodeTerminal from 'qrcode-terminal'
import { log, types } from 'wechaty-puppet'
import { PuppetServer } from 'wechaty-puppet-service'

const HOST = '127.0.0.1'
const DEFAULT_PORT = 8788
const DEFAULT_PUPPET = 'wechaty-puppet-wechat4u'

// Puppets and brolog print with console.info/console.log, which would mix free text into the
// JSON lines on stdout; send them to stderr so a supervisor or test can parse stdout.
console.log = console.error
console.info = console.error
console.debug = console.error

/** Writes one machine-readable event line to stdout. */
function emit (event) {
  process.stdout.write(JSON.stringify(event) + '\n')
}

function say (text) {
  process.stderr.write(`jianfu-gateway: ${text}\n`)
}

function die (text) {
  say(text)
  process.exit(2)
}

/** Reads and checks the environment; exits with a clear message on bad input. */
function readConfig (env) {
  const token = env.JIANFU_PUPPET_TOKEN ?? ''
  if (token.trim() === '') {
    die('JIANFU_PUPPET_TOKEN is not set; refusing to start a puppet service without a token')
  }
  // python-wechaty sends the token as the HTTP/2 :authority, so it must be a plain header value.
  if (!/^[\w.~-]+$/.test(token)) {
    die('JIANFU_PUPPET_TOKEN may only contain letters, digits, "_", "-", "." and "~"')
  }
  const rawPort = env.JIANFU_GATEWAY_PORT ?? String(DEFAULT_PORT)
  const port = Number(rawPort)
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    die(`JIANFU_GATEWAY_PORT must be a port number 0-65535, got "${rawPort}"`)
  }
  const puppetName = (env.JIANFU_PUPPET ?? '').trim() || DEFAULT_PUPPET
  const session = (env.JIANFU_GATEWAY_SESSION ?? '').trim()
  return { token, port, puppetName, sessionFile: session ? path.resolve(session) : undefined }
}

/**
 * PuppetServer hands "host:port" to grpc-js bindAsync and drops the port it bound, so port 0
 * cannot be reported back; ask the OS for a free loopback port first instead.
 */
function freeLoopbackPort () {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/** Loads the puppet package by name and returns a new instance of its Puppet class. */
async function createPuppet (puppetName) {
  if (puppetName === 'mock') {
    const { createMockPuppet, MockScenario } = await import('./mock-scenario.mjs')
    const { puppet, mocker } = createMockPuppet()
    return { puppet, scenario: new MockScenario(puppet, mocker, emit) }
  }
  let mod
  try {
    mod = await import(puppetName)
  } catch (e) {
    die(`cannot load puppet package "${puppetName}" (${e.message}); ` +
      `install it in gateway/ with: npm install --save-exact ${puppetName}@<version>`)
  }
  const PuppetClass = typeof mod.default === 'function'
    ? mod.default
    : Object.values(mod).find(v => typeof v === 'function' && /^Puppet/.test(v.name))
  if (!PuppetClass) {
    die(`package "${puppetName}" exports no Puppet class`)
  }
  return { puppet: new PuppetClass(), scenario: undefined }
}

/** Logs what an operator needs: the QR code to scan, login, logout, errors. No message text. */
function watchPuppet (puppet) {
  puppet.on('scan', ({ qrcode, status }) => {
    emit({ event: 'scan', status, statusName: types.ScanStatus[status] ?? 'Unknown' })
    if (!qrcode) {
      return
    }
    say(`scan this QR code with the WeChat app of the bot account (${types.ScanStatus[status]}):`)
    qrcodeTerminal.generate(qrcode, { small: true }, text => process.stderr.write(text + '\n'))
    // The raw content, for rendering the code elsewhere; deliberately no link to an online
    // QR renderer, which would hand the login code to a third party.
    say(`QR code content: ${qrcode}`)
  })
  puppet.on('login', ({ contactId }) => {
    emit({ event: 'login', userId: contactId })
    say(`logged in as ${contactId}`)
  })
  puppet.on('logout', ({ contactId, data }) => {
    emit({ event: 'logout', userId: contactId, reason: data ?? '' })
    say(`logged out ${contactId}: ${data ?? ''}`)
  })
  puppet.on('ready', () => emit({ event: 'puppet-ready' }))
  puppet.on('error', payload => {
    const message = payload instanceof Error ? payload.message : (payload?.data ?? String(payload))
    say(`puppet error: ${message}`)
  })
}

/**
 * The puppet as PuppetServer sees it: client Start/Stop calls do nothing.
 *
 * python-wechaty calls Stop then Start every time it connects, and stopping a real puppet
 * logs the WeChat account out (wechat4u's stop() calls the web logout, and its logout handler
 * wipes the saved session). So the gateway owns the puppet's lifecycle: it starts the puppet
 * itself, and jianfu connecting, reconnecting or stopping never touches the WeChat login.
 * Other members are bound to the real puppet so its own internal start/stop (watchdog reset)
 * still works.
 */
function clientLifecycleShield (puppet) {
  const noop = async () => {}
  return new Proxy(puppet, {
    get (target, prop) {
      if (prop === 'start' || prop === 'stop') {
        return noop
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

async function main () {
  const { token, port: wantedPort, puppetName, sessionFile } = readConfig(process.env)
  // The session file holds login credentials: everything this process creates is owner-only.
  process.umask(0o077)

  // Upstream PuppetServer writes the token into its verbose log; cap the level so it never is.
  if (['verbose', 'silly'].includes(log.level())) {
    say('WECHATY_LOG above "info" is capped to "info": upstream verbose logs contain the token')
    log.level('info')
  }

  const { puppet, scenario } = await createPuppet(puppetName)
  if (sessionFile) {
    // Puppets such as wechat4u keep their login data in the puppet memory; a named card is
    // saved to <file>.memory-card.json so a restart can log in again without a new QR scan.
    puppet.setMemory(new MemoryCard({ name: sessionFile }))
    say(`login session kept in ${sessionFile.replace(/(\.memory-card\.json)?$/, '.memory-card.json')}`)
  }
  watchPuppet(puppet)

  const port = wantedPort === 0 ? await freeLoopbackPort() : wantedPort
  const server = new PuppetServer({
    endpoint: `${HOST}:${port}`,
    puppet: clientLifecycleShield(puppet),
    token,
    tls: { disable: true },
  })
  try {
    await server.start()
  } catch (e) {
    die(`cannot listen on ${HOST}:${port}: ${e.message}`)
  }
  say(`puppet service (${puppetName}) listening on ${HOST}:${port}, TLS off, loopback only`)
  try {
    // A real puppet shows its login QR code from here on, before any client connects.
    await puppet.start()
  } catch (e) {
    say(`the puppet failed to start: ${e.message}`)
    await server.stop()
    process.exit(1)
  }
  emit({ event: 'ready', port, puppet: puppetName })

  let stopping = false
  const shutdown = async (why) => {
    if (stopping) {
      return
    }
    stopping = true
    say(`stopping (${why})`)
    try {
      await server.stop()
      // Stopping a real puppet logs the account out and clears its saved session; with a
      // session file the operator wants the next start to resume that login, so leave it.
      if (!sessionFile && puppet.state.active()) {
        await puppet.stop()
      }
    } catch (e) {
      say(`error while stopping: ${e.message}`)
    }
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))

  if (scenario) {
    // A test drives the mock through stdin; when the driver goes away, so does the gateway.
    scenario.listen(process.stdin, () => void shutdown('stdin closed'))
  }
}

main().catch(e => die(`fatal: ${e.stack ?? e}`))
