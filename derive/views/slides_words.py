"""What the slides say, in Korean and English: headings of their own and the speaker notes
(the sentences a lecturer says, as seed 004's captions do); {name} is a formula."""

WORDS = {
    "ko": {
        "deck": "강의 슬라이드", "cont": " (계속)", "given": "주어진 값", "compare": "손실 비교",
        "table": "나머지 기울기와 새 가중치",
        "title": "오늘은 이 신경망으로 역전파를 한 단계씩 계산해 보겠습니다. 입력, 가중치, 정답, 학습률이 주어져 있습니다.",
        "sum": "입력과 연결가중치의 곱을 모두 더해 {name} 값을 구합니다.",
        "activation": "가중합 {pre}에 활성화 함수를 적용하면 {name} 값이 나옵니다.",
        "loss": "출력값과 실제값을 손실 함수에 넣어 오차 {name} 값을 계산합니다.",
        "rule": "{name}를 업데이트하려면 경사하강법의 공식에 따라 미분값 {gradient}가 필요합니다.",
        "chain": "{gradient}는 바로 구할 수 없으므로, 연쇄 법칙으로 아는 미분값들의 곱으로 나눕니다.",
        "factor": "이번에는 인자 {factor}를 미분하고 값을 넣습니다.",
        "numbers": "이제 각 인자의 값을 넣어 곱합니다.",
        "result": "그러면 {gradient}의 값은 {value}입니다.",
        "update": "학습률을 곱해 빼 주면 {name}의 새 값은 {value}입니다.",
        "signal": "오차 신호 {name}는 한 번만 계산해 두고, 그 아래의 모든 기울기에서 다시 씁니다.",
        "table_note": "나머지 기울기는 오차 신호에 그 연결의 입력을 곱한 값입니다. 표로 정리했습니다.",
        "compare_note": "업데이트 전후의 손실을 비교해 봅시다.",
        "state": "옵티마이저는 이 파라미터의 상태 {name}를 먼저 갱신합니다.",
        "later": "다음 반복도 같은 방법으로 계산합니다. 여기에는 그 결과를 모았습니다.",
        "later_full": "다음 반복도 같은 순서로 풀어 봅시다.",
        "factors": "국소 미분값", "factors_note": "각 연결의 국소 미분값입니다. 아래 표의 기울기가 이 값을 씁니다.",
        "large": "이 신경망은 파라미터가 {count}개라서 오차 신호만 한 번씩 유도하고, 기울기는 표로 보입니다 "
                 "(하나씩 모두 유도하려면 --slides-all).",
    },
    "en": {
        "deck": "lecture slides", "cont": " (cont.)", "given": "Given values", "compare": "The loss before and after",
        "table": "The remaining gradients and new weights",
        "title": "Today we work through backpropagation on this network step by step. The inputs, weights, targets "
                 "and learning rate are given.",
        "sum": "Multiply each input by its weight and add them up: that gives {name}.",
        "activation": "Applying the activation function to the weighted sum {pre} gives {name}.",
        "loss": "Put the output and the target into the loss function: that gives the loss {name}.",
        "rule": "To update {name}, gradient descent needs the derivative {gradient}.",
        "chain": "We cannot write {gradient} down directly, so the chain rule splits it into derivatives we know.",
        "factor": "Next, the factor {factor}: differentiate, then put in the numbers.",
        "numbers": "Now put in each factor's value and multiply.",
        "result": "So {gradient} is {value}.",
        "update": "Subtract the learning rate times the gradient: the new {name} is {value}.",
        "signal": "The error signal {name} is computed once, and every gradient below it reuses it.",
        "table_note": "Each remaining gradient is an error signal times the input of its edge; here they are in a table.",
        "compare_note": "Let us compare the loss before and after the update.",
        "state": "The optimizer first updates this parameter's state {name}.",
        "later": "The next iteration is worked the same way; here are its results.",
        "later_full": "The next iteration, worked in the same order.",
        "factors": "The local derivatives", "factors_note": "Each edge's local derivative; the gradients in the table use them.",
        "large": "This network has {count} parameters, so the deck works each error signal once and shows the "
                 "gradients in a table (--slides-all derives every one).",
    },
}
