// Drives wechaty-puppet-mock's mocker from newline-delimited JSON commands, for tests and demos.
//
// Each stdin line is one command object; each command gets exactly one JSON reply line on
// stdout, {"event":"ok",...} or {"event":"error",...}, echoing the command's optional "seq".
// Commands:
//   {"cmd":"contact","id":"wxid_a","name":"张三"}
//   {"cmd":"login","id":"wxid_bot"}          self contact; applied now, or when the puppet starts
//   {"cmd":"room","id":"r1@chatroom","topic":"工作群","members":["wxid_a"],"owner":"wxid_a",
//    "admins":[]}
//   {"cmd":"say","from":"wxid_a","room":"r1@chatroom","text":"@李四 收到请回复",
//    "mentions":["wxid_b"],"timestamp":1700000000000}   ("to":"wxid_bot" for a private message)
//   {"cmd":"join","room":"r1@chatroom","members":["wxid_c"],"by":"wxid_a"}
//   {"cmd":"leave","room":"r1@chatroom","members":["wxid_c"],"by":"wxid_a"}
//   {"cmd":"topic","room":"r1@chatroom","topic":"新群名","by":"wxid_a"}
//   {"cmd":"scan","qrcode":"https://login.weixin.qq.com/l/xyz"}   a login QR code to show
//   {"cmd":"logout"}
//   {"cmd":"ping"}                            replies with the puppet's login state
// Every message the puppet sees (including what the bot sends) is reported as
// {"event":"message","messageId":...,"talkerId":...,"roomId":...,"listenerId":...,"text":...,
//  "mentionIds":[...],"timestamp":...,"type":<wechaty-puppet MessageType>,"fileName","fileSize"}.

import readline from 'node:readline'

import { PuppetMock, mock } from 'wechaty-puppet-mock'

/** Raised for a command that names something unknown or lacks a field; reported, never fatal. */
class ScenarioError extends Error {}

/** Builds a PuppetMock with its own mocker; the caller wraps it in a PuppetServer. */
export function createMockPuppet () {
  const mocker = new mock.Mocker()
  const puppet = new PuppetMock({ mocker })
  return { puppet, mocker }
}

/** The scenario state that outlives one puppet start (the client may stop and start it). */
export class MockScenario {
  constructor (puppet, mocker, emit) {
    this.puppet = puppet
    this.mocker = mocker
    this.emit = emit
    this.selfId = undefined

    // The gateway starts the puppet right after it listens, so a "login" may arrive first;
    // it is then applied on start (and again after an internal restart such as a watchdog
    // reset, as a real puppet would resume its session).
    puppet.on('start', () => this.loginIfWanted())
    puppet.on('message', ({ messageId }) => this.reportMessage(messageId))
  }

  loginIfWanted () {
    if (this.selfId === undefined || this.puppet.state.active() !== true || this.puppet.isLoggedIn) {
      return
    }
    this.mocker.login(this.contact(this.selfId))
    // Real puppets (wechat4u) save their login data to the puppet memory on login; do the
    // same so a session file given to the gateway is written as in production.
    this.puppet.memory.set('jianfu-mock-login', { userId: this.selfId })
      .then(() => this.puppet.memory.save())
      .catch(e => this.emit({ event: 'error', error: `saving puppet memory: ${e.message}` }))
    // Real puppets emit ready once their contact/room sync is done; the mock has nothing
    // to sync, so it is ready at once.
    this.puppet.emit('ready', { data: 'ready' })
  }

  reportMessage (messageId) {
    const payload = this.mocker.cacheMessagePayload.get(messageId)
    if (!payload) {
      return
    }
    const file = this.mocker.cacheFileBoxPayload.get(messageId)
    this.emit({
      event: 'message',
      messageId,
      talkerId: payload.talkerId,
      roomId: payload.roomId ?? null,
      listenerId: payload.listenerId ?? null,
      text: payload.text ?? '',
      mentionIds: payload.mentionIdList ?? [],
      timestamp: payload.timestamp,
      type: payload.type,
      fileName: file?.name ?? null,
      // Size of an inline (base64) file, so a test can see the bytes arrived whole.
      fileSize: file?.base64 ? Buffer.from(file.base64, 'base64').length : null,
    })
  }

  contact (id) {
    requireString(id, 'contact id')
    if (!this.mocker.cacheContactPayload.has(id)) {
      throw new ScenarioError(`unknown contact "${id}": create it with {"cmd":"contact"} first`)
    }
    return this.mocker.ContactMock.load(id)
  }

  room (id) {
    requireString(id, 'room id')
    if (!this.mocker.cacheRoomPayload.has(id)) {
      throw new ScenarioError(`unknown room "${id}": create it with {"cmd":"room"} first`)
    }
    return this.mocker.RoomMock.load(id)
  }

  /** Runs one command and returns the extra fields of its "ok" reply. */
  apply (command) {
    switch (command.cmd) {
      case 'contact': {
        requireString(command.id, 'id')
        requireString(command.name, 'name')
        this.mocker.createContact({ id: command.id, name: command.name })
        return { id: command.id }
      }
      case 'login': {
        this.contact(command.id)
        this.selfId = command.id
        this.loginIfWanted()
        return { id: command.id, loggedIn: this.puppet.isLoggedIn }
      }
      case 'scan': {
        requireString(command.qrcode, 'qrcode')
        this.mocker.scan(command.qrcode)
        return {}
      }
      case 'ping':
        return { loggedIn: this.puppet.isLoggedIn, selfId: this.selfId ?? null }
      case 'logout': {
        this.selfId = undefined
        void this.puppet.logout('mock scenario logout')
        return {}
      }
      case 'room': {
        let id = command.id
        requireString(id, 'id')
        // PuppetMock tells rooms from contacts by an "@" in the id when sending.
        if (!id.includes('@')) {
          id = `${id}@chatroom`
        }
        const members = stringList(command.members ?? [], 'members')
        members.forEach(m => this.contact(m))
        const admins = stringList(command.admins ?? [], 'admins')
        if (command.owner !== undefined) {
          this.contact(command.owner)
        }
        this.mocker.createRoom({
          id,
          topic: command.topic ?? id,
          memberIdList: members,
          adminIdList: admins,
          ownerId: command.owner,
        })
        return { id }
      }
      case 'say': {
        const talker = this.contact(command.from)
        const mentions = stringList(command.mentions ?? [], 'mentions').map(m => this.contact(m))
        let conversation
        if (command.room !== undefined) {
          conversation = this.room(command.room)
        } else if (command.to !== undefined) {
          conversation = this.contact(command.to)
        } else {
          throw new ScenarioError('say needs "room" or "to"')
        }
        requireString(command.text, 'text')
        let messageId
        // say().to() emits the message event synchronously, so this listener sees our message.
        const capture = ({ messageId: id }) => {
          messageId = id
          if (command.timestamp !== undefined) {
            // The payload is fetched by the client only after the event, so changing the
            // stored object here is what the client will read.
            this.mocker.cacheMessagePayload.get(id).timestamp = Number(command.timestamp)
          }
        }
        this.puppet.prependOnceListener('message', capture)
        try {
          talker.say(command.text, mentions).to(conversation)
        } finally {
          this.puppet.off('message', capture)
        }
        return { messageId }
      }
      case 'join': {
        const room = this.room(command.room)
        const members = stringList(command.members, 'members').map(m => this.contact(m))
        room.add(...members).by(this.contact(command.by))
        return {}
      }
      case 'leave': {
        const room = this.room(command.room)
        const members = stringList(command.members, 'members').map(m => this.contact(m))
        room.remove(...members).by(this.contact(command.by))
        return {}
      }
      case 'topic': {
        requireString(command.topic, 'topic')
        this.room(command.room).topic(command.topic).by(this.contact(command.by))
        return {}
      }
      default:
        throw new ScenarioError(`unknown cmd ${JSON.stringify(command.cmd)}`)
    }
  }

  /** Parses and runs one stdin line, reporting the outcome as one JSON line. */
  handleLine (line) {
    if (line.trim() === '') {
      return
    }
    let command
    try {
      command = JSON.parse(line)
    } catch (e) {
      this.emit({ event: 'error', error: `not JSON: ${e.message}` })
      return
    }
    const echo = { cmd: command?.cmd, seq: command?.seq }
    try {
      if (typeof command !== 'object' || command === null) {
        throw new ScenarioError('a command must be a JSON object')
      }
      const result = this.apply(command)
      this.emit({ event: 'ok', ...echo, ...result })
    } catch (e) {
      this.emit({ event: 'error', ...echo, error: e.message })
    }
  }

  /** Reads commands from a stream; calls onEnd when it closes (the driver went away). */
  listen (input, onEnd) {
    const lines = readline.createInterface({ input, crlfDelay: Infinity })
    lines.on('line', line => this.handleLine(line))
    lines.on('close', onEnd)
  }
}

function requireString (value, what) {
  if (typeof value !== 'string' || value === '') {
    throw new ScenarioError(`${what} must be a non-empty string, got ${JSON.stringify(value)}`)
  }
}

function stringList (value, what) {
  if (!Array.isArray(value)) {
    throw new ScenarioError(`${what} must be a list of ids, got ${JSON.stringify(value)}`)
  }
  value.forEach(v => requireString(v, `each of ${what}`))
  return value
}
