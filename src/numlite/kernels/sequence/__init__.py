"""The sequence family: recurrent ops whose state lives in variable tensors across invokes.

* :mod:`.lstm` — LSTM, UNIDIRECTIONAL_SEQUENCE_LSTM and BIDIRECTIONAL_SEQUENCE_LSTM, float and hybrid;
* :mod:`.lstm_integer` — the integer LSTMs (8x8_16, 8x8_8, the uint8 basic cell);
* :mod:`.slots` — the LSTM operand slots and the checks both LSTM modules share;
* :mod:`.rnn` — RNN, UNIDIRECTIONAL_SEQUENCE_RNN and BIDIRECTIONAL_SEQUENCE_RNN, float and hybrid;
* :mod:`.svdf` — SVDF, float, hybrid and integer.

Importing the package imports its kernel modules, so every registration is made.
"""
from . import lstm, lstm_integer, rnn, svdf  # noqa: F401  (registration)
